// node.enroll and node.renew_certificate for the daemon (PROTOCOL.md §7 and
// §4): one-time tokens, the per-address failure limit, certificates issued
// by the gateway CA for keys the nodes generated themselves.
//
// Signing and the state directory's files (token store, ledger, each
// fsync'd under the state lock) and a cluster's token bucket block, so the work runs on a worker
// thread of its own and the answer is posted back to the loop. The one worker also serializes this
// daemon's enrollments; the state lock covers `palyra` processes writing the same files.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "palyra/common/clock.hpp"
#include "palyra/identity/device_claims.hpp"
#include "palyra/identity/ledger.hpp"
#include "palyra/identity/state_dir.hpp"
#include "palyra/identity/token_store.hpp"
#include "palyra/runtime/failure_limiter.hpp"
#include "palyra/runtime/protocol.hpp"
#include "palyra/transport/io/event_loop.hpp"

namespace palyra::runtime {

class WorkerThread;
struct IssueOutcome;  // what the worker decided (enrollment_service.cpp)

struct EnrollmentOptions {
  // Validity of the device certificates issued at enrollment and renewal.
  std::chrono::seconds device_validity = std::chrono::hours(24);
  FailureLimiter::Policy failures;
  // Where tokens are consumed. Null: the state directory's tokens.json
  // (FileTokenStore); a cluster passes its shared bucket.
  std::shared_ptr<identity::TokenStore> tokens;
  // Runs on the worker after each certificate issued by enrollment or
  // renewal is in the ledger file (a cluster copies it to its shared
  // ledger). Empty: nothing more.
  std::function<void(const identity::LedgerEntry&)> on_issued;
  // Where a device id a node asks for is claimed, besides the check against
  // the ledger file (a cluster passes its shared claims: two gateways never
  // give one id to two nodes). Null: the ledger file alone decides.
  std::shared_ptr<identity::DeviceClaims> device_claims;
};

// How issuing calls ended, counted on the loop's thread.
struct IssueStats {
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;     // the worker said no (bad token, CSR, revoked device...)
  std::uint64_t locked_out = 0;  // refused unseen: the address failed too often
};

class EnrollmentService {
 public:
  // The answer to one call: the response frame to send.
  using Done = std::function<void(std::string frame)>;

  // `clock` judges tokens and certificates (its calendar time) and how long
  // an address stays locked out (its steady time).
  EnrollmentService(transport::EventLoop& loop, identity::StateDir dir, EnrollmentOptions options,
                    std::shared_ptr<const palyra::Clock> clock = system_clock());
  // Finishes the call in progress (a token use is never consumed without
  // its certificate being recorded); answers posted after this are dropped.
  ~EnrollmentService();
  EnrollmentService(const EnrollmentService&) = delete;
  EnrollmentService& operator=(const EnrollmentService&) = delete;

  // node.enroll from `peer` ("203.0.113.7:4433"); failures count against its
  // address without the port. `done` runs on the loop.
  void enroll(const Request& request, const std::string& peer, Done done);
  // node.renew_certificate by the device whose certificate the connection
  // presented. `done` runs on the loop.
  void renew(const Request& request, const std::string& device_id, const std::string& peer,
             Done done);

  // The loop the calls are made and answered on.
  transport::EventLoop& loop() const noexcept { return loop_; }
  std::size_t calls_in_flight() const noexcept { return in_flight_; }
  // node.enroll and node.renew_certificate calls by result (loop thread).
  const IssueStats& enrollments() const noexcept { return enrollments_; }
  const IssueStats& renewals() const noexcept { return renewals_; }

 private:
  // Runs `work` on the worker, then on the loop: logs "<what> accepted|refused
  // <who> ...", counts a refusal against `counted_host` if given, and answers.
  void run_on_worker(std::function<IssueOutcome()> work, const char* what, IssueStats& counts,
                     std::string who, std::optional<std::string> counted_host, Done done);

  transport::EventLoop& loop_;
  identity::StateDir dir_;
  EnrollmentOptions options_;
  std::shared_ptr<const palyra::Clock> clock_;
  FailureLimiter failures_;  // loop thread only
  std::size_t in_flight_ = 0;
  IssueStats enrollments_;
  IssueStats renewals_;
  std::shared_ptr<int> lifetime_ = std::make_shared<int>(0);
  std::unique_ptr<WorkerThread> worker_;  // last: joined first
};

}  // namespace palyra::runtime
