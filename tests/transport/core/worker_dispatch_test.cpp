// The front door of one worker among several (ARCHITECTURE.md, Workers):
// a datagram whose DCID names another worker is handed to it, unless it
// is a connection of ours or an Initial; the connection and handshake caps
// are the daemon's, shared by every worker's dispatcher.
#include <gtest/gtest.h>
#include <ngtcp2/ngtcp2.h>

#include <array>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../io/raw_quic.hpp"
#include "datagram_dispatcher.hpp"

namespace palyra::transport {
namespace {

using Action = DatagramDispatcher::Action;
using testing::crafted_initial;
using testing::random_bytes_for_test;
using testing::short_header_packet;
constexpr std::uint64_t kNow = 1'000'000'000;
constexpr std::size_t kWorkers = 2;

class WorkerDispatchTest : public ::testing::Test {
 protected:
  std::shared_ptr<const WorkerCids> cids_of(std::size_t worker) const {
    return std::make_shared<const WorkerCids>(
        WorkerCids::make(keys_->worker_cid_key(), worker, kWorkers).value());
  }
  std::unique_ptr<DatagramDispatcher> dispatcher_of(std::size_t worker) {
    return std::make_unique<DatagramDispatcher>(
        limits_, keys_, nullptr, DatagramDispatcher::WorkerRole{cids_of(worker), admission_});
  }
  std::vector<std::uint8_t> cid_issued_by(std::size_t worker) const {
    std::vector<std::uint8_t> cid(kWorkerCidLength);
    cids_of(worker)->issue(cid.data());
    return cid;
  }
  DatagramDispatcher::Verdict dispatch(DatagramDispatcher& dispatcher,
                                       const std::vector<std::uint8_t>& datagram) {
    return dispatcher.dispatch(from_, datagram, kNow, 0, answer_);
  }
  std::vector<std::uint8_t> initial() {
    return crafted_initial(random_bytes_for_test(8, rng_), random_bytes_for_test(8, rng_), {},
                           rng_);
  }

  Limits limits_;
  std::shared_ptr<const ServerKeys> keys_ =
      std::make_shared<const ServerKeys>(ServerKeys::derive(generate_server_secret()).value());
  std::shared_ptr<SharedAdmission> admission_ =
      std::make_shared<SharedAdmission>(limits_.max_connections, limits_.max_handshakes);
  SocketAddress from_ = SocketAddress::parse("192.0.2.1:4433").value();
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> answer_{};
  std::mt19937 rng_{11};
};

TEST_F(WorkerDispatchTest, ADatagramNamingAnotherWorkerIsHandedToIt) {
  auto worker0 = dispatcher_of(0);
  const auto verdict = dispatch(*worker0, short_header_packet(cid_issued_by(1), 60, rng_));
  EXPECT_EQ(verdict.action, Action::Forward);
  EXPECT_EQ(verdict.worker, 1u);
  EXPECT_EQ(verdict.answer_length, 0u) << "nothing is answered from here";
}

TEST_F(WorkerDispatchTest, OwnConnectionsUnknownOwnCidsAndInitialsStayHere) {
  auto worker0 = dispatcher_of(0);
  // A connection of ours: delivered, whatever its CID would say.
  const auto ours = cid_issued_by(0);
  worker0->add_route(std::string(ours.begin(), ours.end()), 7);
  EXPECT_EQ(dispatch(*worker0, short_header_packet(ours, 60, rng_)).action, Action::Deliver);
  // One of our CIDs that we no longer know: reset from here, not forwarded.
  const auto gone = dispatch(*worker0, short_header_packet(cid_issued_by(0), 60, rng_));
  EXPECT_EQ(gone.action, Action::Drop);
  EXPECT_EQ(gone.drop_reason, DropReason::UnknownConnection);
  // A CID of another length names no worker.
  const auto stranger =
      dispatch(*worker0, short_header_packet(random_bytes_for_test(8, rng_), 60, rng_));
  EXPECT_EQ(stranger.drop_reason, DropReason::UnknownConnection);
  // An Initial's DCID is the client's choice: never interpreted, even when
  // it happens to decrypt to another worker's index.
  auto initial_to_worker1 =
      crafted_initial(cid_issued_by(1), random_bytes_for_test(8, rng_), {}, rng_);
  const auto accepted = dispatch(*worker0, initial_to_worker1);
  EXPECT_EQ(accepted.action, Action::Accept);
  EXPECT_EQ(accepted.accept_options.worker_cids.get() != nullptr, true)
      << "the connection it starts issues CIDs naming this worker";
}

TEST_F(WorkerDispatchTest, TheCapsAreSharedByEveryWorker) {
  limits_.max_connections = 2;
  admission_ = std::make_shared<SharedAdmission>(limits_.max_connections, limits_.max_handshakes);
  auto worker0 = dispatcher_of(0);
  auto worker1 = dispatcher_of(1);
  EXPECT_EQ(dispatch(*worker0, initial()).action, Action::Accept);
  EXPECT_EQ(dispatch(*worker1, initial()).action, Action::Accept);
  // Each worker holds one connection: the third client is refused by either.
  EXPECT_EQ(dispatch(*worker1, initial()).action, Action::Refuse);
  EXPECT_EQ(dispatch(*worker0, initial()).action, Action::Refuse);
  // Worker 0's connection goes: worker 1 may take the place.
  worker0->handshake_began("");
  worker0->handshake_ended("");
  worker0->connection_gone();
  EXPECT_EQ(dispatch(*worker1, initial()).action, Action::Accept);
  EXPECT_EQ(admission_->connections(), 2u);
}

}  // namespace
}  // namespace palyra::transport
