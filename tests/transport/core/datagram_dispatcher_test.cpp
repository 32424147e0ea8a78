// The server's front door on its own: each kind of datagram meets the fate
// its header calls for, and garbage is dropped without a single C++
// allocation (operator new is counted for the whole test binary).
#include "datagram_dispatcher.hpp"

#include <gtest/gtest.h>
#include <ngtcp2/ngtcp2.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

namespace {
std::atomic<std::size_t> allocations{0};
// Out of line, so the compiler does not pair our operator new with free().
[[gnu::noinline]] void release(void* p) noexcept {
  std::free(p);
}
}  // namespace

void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  release(p);
}

namespace palyra::transport {
namespace {

using Action = DatagramDispatcher::Action;
constexpr std::uint64_t kNow = 1'000'000'000;

std::vector<std::uint8_t> noise(std::size_t n, std::mt19937& rng) {
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

// A long header of `version` (4 bytes, big-endian) with 8-byte CIDs.
std::vector<std::uint8_t> long_header(std::uint32_t version, std::uint8_t first, std::size_t size,
                                      std::mt19937& rng) {
  auto p = noise(size, rng);
  p[0] = first;
  for (int i = 0; i < 4; ++i) p[1 + i] = static_cast<std::uint8_t>(version >> (24 - 8 * i));
  p[5] = 8;
  if (size > 14) p[14] = 8;
  return p;
}

std::vector<std::uint8_t> short_header(const std::vector<std::uint8_t>& dcid, std::size_t size,
                                       std::mt19937& rng) {
  auto p = noise(size, rng);
  p[0] = 0x41;
  std::copy(dcid.begin(), dcid.end(), p.begin() + 1);
  return p;
}

class DatagramDispatcherTest : public ::testing::Test {
 protected:
  DatagramDispatcher::Verdict dispatch(const std::vector<std::uint8_t>& datagram,
                                       std::size_t open_connections = 0) {
    return dispatcher_.dispatch(from_, datagram, kNow, open_connections, answer_);
  }

  Limits limits_;
  DatagramDispatcher dispatcher_{
      limits_,
      std::make_shared<const ServerKeys>(ServerKeys::derive(generate_server_secret()).value())};
  SocketAddress from_ = SocketAddress::parse("192.0.2.1:4433").value();
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> answer_{};
  std::mt19937 rng_{7};
};

TEST_F(DatagramDispatcherTest, EachKindOfGarbageIsDroppedForItsReason) {
  struct Case {
    std::vector<std::uint8_t> datagram;
    DropReason reason;
    bool answered;
  };
  const std::vector<Case> cases = {
      {{}, DropReason::Malformed, false},
      {{0x41, 1, 2}, DropReason::Malformed, false},                    // short, no room for a CID
      {long_header(1, 0xc0, 10, rng_), DropReason::Malformed, false},  // cut inside the CIDs
      {long_header(0x1a2a3a4a, 0xc0, 1199, rng_), DropReason::UnsupportedVersion, false},
      {long_header(0x1a2a3a4a, 0xc0, 1200, rng_), DropReason::UnsupportedVersion, true},
      {long_header(0xff00001d, 0xc0, 1200, rng_), DropReason::UnsupportedVersion,
       true},                                                                     // draft-29
      {long_header(0, 0xc0, 1200, rng_), DropReason::UnsupportedVersion, false},  // a VN itself
      {short_header(noise(16, rng_), 36, rng_), DropReason::UnknownConnection, false},
      {short_header(noise(16, rng_), 60, rng_), DropReason::UnknownConnection, true},  // a reset
      {long_header(1, 0xe0, 1200, rng_), DropReason::NotInitial, false},               // Handshake
      {long_header(1, 0xc0, 600, rng_), DropReason::NotInitial, false},  // a short Initial
  };
  std::uint64_t dropped = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "datagram of " << c.datagram.size() << " bytes");
    const auto verdict = dispatch(c.datagram);
    EXPECT_EQ(verdict.action, Action::Drop);
    EXPECT_EQ(verdict.drop_reason, c.reason);
    EXPECT_EQ(verdict.answer_length > 0, c.answered);
    EXPECT_LT(verdict.answer_length, std::max<std::size_t>(c.datagram.size(), 1));
    EXPECT_EQ(dispatcher_.counters().dropped[static_cast<std::size_t>(c.reason)] > 0, true);
    ++dropped;
  }
  std::uint64_t counted = 0;
  for (auto n : dispatcher_.counters().dropped) counted += n;
  EXPECT_EQ(counted, dropped);
  EXPECT_EQ(dispatcher_.counters().version_negotiations_sent, 2u);
  EXPECT_EQ(dispatcher_.counters().stateless_resets_sent, 1u);
  EXPECT_EQ(dispatcher_.handshakes(), 0u);
}

TEST_F(DatagramDispatcherTest, GarbageIsDroppedWithoutAllocating) {
  std::vector<std::vector<std::uint8_t>> storm;
  for (std::size_t i = 0; i < 2000; ++i) {
    switch (i % 4) {
      case 0:
        storm.push_back(noise(1 + rng_() % 1400, rng_));
        break;
      case 1:
        storm.push_back(short_header(noise(16, rng_), 17 + rng_() % 200, rng_));
        break;
      case 2:
        storm.push_back(long_header(0x1a2a3a4a, 0xc0, 1200, rng_));
        break;
      default:
        storm.push_back(long_header(1, 0xe0, 40 + rng_() % 1000, rng_));
    }
  }
  dispatcher_.add_route(std::string(16, 'k'), 1);  // a table with something in it
  const std::size_t before = allocations.load();
  for (const auto& datagram : storm) {
    if (dispatch(datagram).action != Action::Drop) ADD_FAILURE() << "not dropped";
  }
  EXPECT_EQ(allocations.load() - before, 0u);
}

TEST_F(DatagramDispatcherTest, KnownConnectionIdsAreDeliveredUntilTheirRouteGoes) {
  const auto cid = noise(16, rng_);
  const std::string key(cid.begin(), cid.end());
  dispatcher_.add_route(key, 42);
  auto verdict = dispatch(short_header(cid, 60, rng_));
  EXPECT_EQ(verdict.action, Action::Deliver);
  EXPECT_EQ(verdict.connection_id, 42u);
  dispatcher_.remove_route(key, 41);  // another connection's: stays
  EXPECT_EQ(dispatch(short_header(cid, 60, rng_)).action, Action::Deliver);
  dispatcher_.remove_route(key, 42);
  EXPECT_EQ(dispatch(short_header(cid, 60, rng_)).drop_reason, DropReason::UnknownConnection);
}

TEST_F(DatagramDispatcherTest, StatelessAnswersShareNoBudget) {
  limits_.stateless_resets_per_second = 2;
  DatagramDispatcher dispatcher(limits_, std::make_shared<const ServerKeys>(
                                             ServerKeys::derive(generate_server_secret()).value()));
  for (int i = 0; i < 5; ++i) {
    (void)dispatcher.dispatch(from_, short_header(noise(16, rng_), 60, rng_), kNow, 0, answer_);
    (void)dispatcher.dispatch(from_, long_header(0x1a2a3a4a, 0xc0, 1200, rng_), kNow, 0, answer_);
  }
  EXPECT_EQ(dispatcher.counters().stateless_resets_sent, 2u);
  EXPECT_EQ(dispatcher.counters().stateless_resets_suppressed, 3u);
  EXPECT_EQ(dispatcher.counters().version_negotiations_sent, 2u);
  EXPECT_EQ(dispatcher.counters().version_negotiations_suppressed, 3u);
}

TEST_F(DatagramDispatcherTest, DrainingDropsNewClientsButNotKnownOnes) {
  const auto cid = noise(16, rng_);
  dispatcher_.add_route(std::string(cid.begin(), cid.end()), 5);
  dispatcher_.stop_accepting();
  EXPECT_EQ(dispatch(long_header(1, 0xc0, 1200, rng_)).drop_reason, DropReason::Draining);
  EXPECT_EQ(dispatch(short_header(cid, 60, rng_)).action, Action::Deliver);
}

}  // namespace
}  // namespace palyra::transport
