#include "quic_memory.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define PALYRA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PALYRA_ASAN 1
#endif
#endif

namespace palyra::transport {
namespace {

// AddressSanitizer must see ngtcp2's blocks as malloc'd to catch overflows.
#ifdef PALYRA_ASAN
constexpr bool kUnderAddressSanitizer = true;
#else
constexpr bool kUnderAddressSanitizer = false;
#endif

constexpr std::size_t kPage = 4096;
constexpr std::size_t kMaxPages = 16;
// Each block starts with its page count; the caller's bytes follow, aligned
// as malloc aligns them.
constexpr std::size_t kHeader = 16;
// Freed blocks of each size that are reused as they are. Steady churn
// (handshakes replacing closed connections) stays within this and costs no
// system call; more than this are given back to the kernel page by page.
constexpr std::size_t kBlocksKeptAsTheyAre = 64;
// Address space only (MAP_NORESERVE): pages cost memory once touched. About
// 12 blocks of 2-3 pages per connection: room for ~100,000 connections
// before new blocks fall back to malloc.
constexpr std::size_t kRegionBytes = std::size_t{16} << 30;

class PageArena {
 public:
  PageArena() {
    if (kUnderAddressSanitizer) return;
    // Under strict overcommit accounting (vm.overcommit_memory=2) the
    // kernel would charge the whole reservation: use malloc there.
    std::ifstream overcommit("/proc/sys/vm/overcommit_memory");
    if (int mode = 0; (overcommit >> mode) && mode == 2) return;
    void* region = mmap(nullptr, kRegionBytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region != MAP_FAILED) {
      base_ = static_cast<std::uint8_t*>(region);
      end_ = base_ + kRegionBytes;
      next_ = base_;
    }
  }

  static std::size_t pages_for(std::size_t size) noexcept {
    return (size + kHeader + kPage - 1) / kPage;
  }
  // Only blocks that span pages gain: below that, malloc packs better.
  static bool wants(std::size_t size) noexcept {
    return pages_for(size) >= 2 && pages_for(size) <= kMaxPages;
  }
  bool paged() const noexcept { return base_ != nullptr; }
  // The page count written in front of a block this arena handed out.
  static std::size_t pages_of(const void* ptr) noexcept {
    std::size_t pages = 0;
    std::memcpy(&pages, static_cast<const std::uint8_t*>(ptr) - kHeader, sizeof pages);
    return pages;
  }
  bool owns(const void* ptr) const noexcept {
    auto* p = static_cast<const std::uint8_t*>(ptr);
    return base_ != nullptr && p >= base_ && p < end_;
  }

  // Null when the region is missing or full: the caller uses malloc.
  void* allocate(std::size_t size) noexcept {
    const std::size_t pages = pages_for(size);
    std::uint8_t* block = nullptr;
    {
      std::lock_guard lock(mutex_);
      auto& free_blocks = free_[pages - 1];
      if (!free_blocks.empty()) {
        block = free_blocks.back();
        free_blocks.pop_back();
      } else if (base_ != nullptr && static_cast<std::size_t>(end_ - next_) >= pages * kPage) {
        block = next_;
        next_ += pages * kPage;
      }
    }
    if (block == nullptr) return nullptr;
    std::memcpy(block, &pages, sizeof pages);
    return block + kHeader;
  }

  void release(void* ptr) noexcept {
    std::uint8_t* block = static_cast<std::uint8_t*>(ptr) - kHeader;
    const std::size_t pages = pages_of(ptr);
    auto& free_blocks = free_[pages - 1];
    bool surplus = false;
    {
      std::lock_guard lock(mutex_);
      surplus = free_blocks.size() >= kBlocksKeptAsTheyAre;
    }
    // Past kBlocksKeptAsTheyAre, a freed block gives all but its first page
    // (its header) back to the kernel: after a wave of disconnects the pages a
    // busy connection dirtied are returned, and no idle connection that
    // reuses the block later carries them.
    if (surplus && pages > 1) madvise(block + kPage, (pages - 1) * kPage, MADV_DONTNEED);
    std::lock_guard lock(mutex_);
    try {
      free_blocks.push_back(block);
    } catch (...) {
      // No memory for the free list: the block is lost to reuse, not to correctness.
    }
  }

 private:
  std::uint8_t* base_ = nullptr;
  std::uint8_t* end_ = nullptr;
  std::uint8_t* next_ = nullptr;
  std::mutex mutex_;
  std::array<std::vector<std::uint8_t*>, kMaxPages> free_;
};

// Blocks handed out and not yet freed (quic_memory_blocks_in_use).
std::atomic<std::int64_t> blocks_in_use{0};

void count_block(std::int64_t change) noexcept {
  blocks_in_use.fetch_add(change, std::memory_order_relaxed);
}

PageArena& arena() {
  static PageArena* instance = new PageArena();  // never destroyed: connections may outlive statics
  return *instance;
}

void* allocate(std::size_t size, void*) {
  void* p = PageArena::wants(size) ? arena().allocate(size) : nullptr;
  if (p == nullptr) p = std::malloc(size);
  if (p != nullptr) count_block(1);
  return p;
}

void release(void* ptr, void*) {
  if (ptr == nullptr) return;
  count_block(-1);
  if (arena().owns(ptr)) {
    arena().release(ptr);
  } else {
    std::free(ptr);
  }
}

void* allocate_zeroed(std::size_t count, std::size_t size, void*) {
  void* p = std::calloc(count, size);
  if (p != nullptr) count_block(1);
  return p;
}

void* reallocate(void* ptr, std::size_t size, void* user_data) {
  if (ptr == nullptr || !arena().owns(ptr)) {
    void* moved = std::realloc(ptr, size);
    if (ptr == nullptr && moved != nullptr) count_block(1);
    if (ptr != nullptr && moved == nullptr && size == 0) count_block(-1);  // freed
    return moved;
  }
  // ngtcp2 does not grow its blocks; should it ever, move the bytes.
  void* moved = std::malloc(size);
  if (moved == nullptr) return nullptr;
  count_block(1);  // release() below counts the old block out
  std::memcpy(moved, ptr, std::min(size, PageArena::pages_of(ptr) * kPage - kHeader));
  release(ptr, user_data);
  return moved;
}

}  // namespace

bool quic_memory_is_paged() noexcept {
  return arena().paged();
}

std::int64_t quic_memory_blocks_in_use() noexcept {
  return blocks_in_use.load(std::memory_order_relaxed);
}

const ngtcp2_mem* quic_memory() noexcept {
  static const ngtcp2_mem memory{nullptr, allocate, release, allocate_zeroed, reallocate};
  return &memory;
}

}  // namespace palyra::transport
