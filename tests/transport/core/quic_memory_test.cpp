// The allocator ngtcp2 gets: large blocks from page-aligned memory that stays
// untouched (and so not resident) until used.
#include "quic_memory.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace palyra::transport {
namespace {

constexpr std::size_t kPage = 4096;

// Which of the `pages` pages from the one holding `p` are resident.
std::vector<bool> resident_pages(const void* p, std::size_t pages) {
  auto start = reinterpret_cast<std::uintptr_t>(p) & ~(kPage - 1);
  std::vector<unsigned char> flags(pages);
  EXPECT_EQ(mincore(reinterpret_cast<void*>(start), pages * kPage, flags.data()), 0);
  std::vector<bool> resident;
  for (unsigned char f : flags) resident.push_back((f & 1) != 0);
  return resident;
}

const ngtcp2_mem& mem() {
  return *quic_memory();
}

TEST(QuicMemoryTest, SmallAndLargeBlocksAreUsableAndFreed) {
  for (std::size_t size : {std::size_t{1}, std::size_t{600}, std::size_t{2100}, std::size_t{4080},
                           std::size_t{8216}, std::size_t{16 * kPage}, std::size_t{1} << 20}) {
    void* p = mem().malloc(size, mem().user_data);
    ASSERT_NE(p, nullptr) << size;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u) << size;
    std::memset(p, 0xab, size);
    void* grown = mem().realloc(p, size * 2, mem().user_data);
    ASSERT_NE(grown, nullptr) << size;
    EXPECT_EQ(static_cast<unsigned char*>(grown)[size - 1], 0xab) << size;
    mem().free(grown, mem().user_data);
  }
  auto* zeroed = static_cast<unsigned char*>(mem().calloc(3, 3000, mem().user_data));
  ASSERT_NE(zeroed, nullptr);
  EXPECT_EQ(zeroed[0], 0);
  EXPECT_EQ(zeroed[8999], 0);
  mem().free(zeroed, mem().user_data);
  mem().free(nullptr, mem().user_data);
}

// What an idle connection's skip list does with its block of eight nodes:
// writes the first, never the rest. Only the first page may become resident.
TEST(QuicMemoryTest, UntouchedPagesOfALargeBlockStayOutOfMemory) {
  if (!quic_memory_is_paged())
    GTEST_SKIP() << "plain malloc (AddressSanitizer or strict overcommit)";
  constexpr std::size_t kSize = 5 * kPage - 100;  // a size class no other test here dirties
  auto* block = static_cast<unsigned char*>(mem().malloc(kSize, mem().user_data));
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % kPage, 16u) << "block does not start a page";
  std::memset(block, 1, 1000);
  EXPECT_EQ(resident_pages(block, 5), (std::vector<bool>{true, false, false, false, false}));
  mem().free(block, mem().user_data);
}

// After a wave of frees, blocks beyond those kept for reuse give their
// dirtied pages back: reallocated, only their first page is resident.
TEST(QuicMemoryTest, SurplusFreedBlocksReturnTheirPages) {
  if (!quic_memory_is_paged())
    GTEST_SKIP() << "plain malloc (AddressSanitizer or strict overcommit)";
  constexpr std::size_t kSize = 7 * kPage - 200;  // a size class nothing else here uses
  constexpr std::size_t kBlocks = 100;            // well past the few dozen kept as they are
  std::vector<unsigned char*> blocks;
  for (std::size_t i = 0; i < kBlocks; ++i) {
    blocks.push_back(static_cast<unsigned char*>(mem().malloc(kSize, mem().user_data)));
    ASSERT_NE(blocks.back(), nullptr);
    std::memset(blocks.back(), 2, kSize);
  }
  for (unsigned char* block : blocks) mem().free(block, mem().user_data);
  // The most recently freed come back first: those were surplus.
  auto* again = static_cast<unsigned char*>(mem().malloc(kSize, mem().user_data));
  ASSERT_EQ(again, blocks.back());
  EXPECT_EQ(resident_pages(again, 7),
            (std::vector<bool>{true, false, false, false, false, false, false}));
  mem().free(again, mem().user_data);
}

}  // namespace
}  // namespace palyra::transport
