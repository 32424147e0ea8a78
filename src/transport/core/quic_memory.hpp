// The allocator ngtcp2 uses for every connection.
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <cstdint>

namespace palyra::transport {

// malloc, except for blocks of two to sixteen pages, which come page-aligned
// from a reserved region of address space. ngtcp2 0.12 carves its skip
// lists' nodes from blocks of eight (4-10 KiB each, about ten lists per
// connection) and an idle connection touches little more than the first
// page of each: from our region the untouched pages are never faulted in,
// where malloc would pack neighbours (and their headers) into them. Freed
// blocks are reused; beyond a few dozen per size they give their pages
// back to the kernel, so a wave of disconnects returns its memory.
// Thread-safe. Plain malloc under AddressSanitizer (so overflows inside
// ngtcp2 stay visible) and under strict overcommit accounting
// (vm.overcommit_memory=2 would charge the whole reserved region).
const ngtcp2_mem* quic_memory() noexcept;
// Whether the page region is in use (see above).
bool quic_memory_is_paged() noexcept;
// Blocks quic_memory() has handed out and not yet taken back, on every
// thread: tests check with it that ngtcp2 allocates through us.
std::int64_t quic_memory_blocks_in_use() noexcept;

}  // namespace palyra::transport
