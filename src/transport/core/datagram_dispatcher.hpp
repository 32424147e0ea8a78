// The server's front door, sans I/O: every datagram that reaches the
// server's socket goes through dispatch() first, which decides its fate
// from its header, the routes and the limits — deliver it to a known
// connection, let it start a new one, answer it without keeping state
// (Retry, CONNECTION_CLOSE, Stateless Reset, Version Negotiation), or drop
// it. Garbage is classified and dropped before anything is allocated (the
// route lookup uses a key on the stack), and every stateless answer is
// smaller than what triggered it. The I/O layer's Server and the fuzz
// target drive the same object.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "connection_id_key.hpp"
#include "palyra/common/clock.hpp"
#include "palyra/transport/connection.hpp"
#include "palyra/transport/drop_reason.hpp"
#include "palyra/transport/limits.hpp"
#include "palyra/transport/server_secret.hpp"
#include "palyra/transport/socket_address.hpp"
#include "shared_admission.hpp"
#include "token_bucket.hpp"
#include "worker_cids.hpp"

struct ngtcp2_pkt_hd;

namespace palyra::transport {

class DatagramDispatcher {
 public:
  enum class Action : std::uint8_t {
    Deliver,      // to the connection `connection_id`
    Accept,       // a new client: Connection::accept with `accept_options`
    Retry,        // answered with a Retry (in the answer buffer)
    Refuse,       // at a limit: answered with CONNECTION_CLOSE(CONNECTION_REFUSED)
    RejectToken,  // a bad token: answered with CONNECTION_CLOSE(INVALID_TOKEN)
    Forward,      // its DCID names another worker, `worker`: hand it over
    Drop,         // for `drop_reason`; the answer buffer may hold a reset or a VN
  };
  struct Verdict {
    Action action = Action::Drop;
    DropReason drop_reason = DropReason::Malformed;
    std::uint64_t connection_id = 0;
    std::size_t worker = 0;  // Forward
    AcceptOptions accept_options;
    // Accept: the sender's IP address when no Retry proved it (its
    // handshake counts against max_handshakes_per_address); empty otherwise.
    std::string unvalidated_host;
    // Bytes of the answer buffer to send back to the datagram's sender.
    std::size_t answer_length = 0;
  };
  // What the dispatcher decided since it was made (ServerStats copies them).
  struct Counters {
    std::array<std::uint64_t, kDropReasonCount> dropped{};
    std::uint64_t refused_over_capacity = 0;
    std::uint64_t retries_sent = 0;
    std::uint64_t retry_tokens_validated = 0;
    std::uint64_t invalid_tokens = 0;
    std::uint64_t new_tokens_accepted = 0;  // a NEW_TOKEN token proved the address
    std::uint64_t new_tokens_ignored = 0;   // one did not (expired, another address's, forged)
    std::uint64_t stateless_resets_sent = 0;
    std::uint64_t stateless_resets_suppressed = 0;
    std::uint64_t version_negotiations_sent = 0;
    std::uint64_t version_negotiations_suppressed = 0;
  };

  // One of several workers on one port (ARCHITECTURE.md, Workers): the CIDs
  // this worker issues, and the daemon-wide admission counts all share.
  struct WorkerRole {
    std::shared_ptr<const WorkerCids> cids;
    std::shared_ptr<SharedAdmission> admission;
  };

  // `clock`: calendar time, for the NEW_TOKEN tokens' expiry (null: the
  // system's). `role`: empty for a server that is the only worker.
  DatagramDispatcher(const Limits& limits, std::shared_ptr<const ServerKeys> keys,
                     std::shared_ptr<const palyra::Clock> clock = nullptr, WorkerRole role = {});

  // The fate of `datagram` from `from` at `now_ns`, with `open_connections`
  // connections alive. Any answer is written to `answer` (room for
  // NGTCP2_MAX_UDP_PAYLOAD_SIZE bytes is enough).
  Verdict dispatch(const SocketAddress& from, std::span<const std::uint8_t> datagram,
                   std::uint64_t now_ns, std::size_t open_connections,
                   std::span<std::uint8_t> answer);

  // Datagrams to these connection IDs go to connection `id`.
  void add_route(std::string_view cid, std::uint64_t id);
  // Forgets the route when it still leads to connection `id`.
  void remove_route(std::string_view cid, std::uint64_t id);

  // The server made a connection of an Accept verdict / its handshake ended
  // (established, failed or destroyed) / it is gone (or was never made): the
  // handshake and connection limits count these.
  void handshake_began(const std::string& unvalidated_host);
  void handshake_ended(const std::string& unvalidated_host);
  void connection_gone();
  // An Accept verdict that made no connection (not an Initial after all).
  void accept_abandoned();
  std::size_t handshakes() const noexcept { return handshakes_; }

  // New clients' Initials are dropped from now on (draining for shutdown).
  void stop_accepting() noexcept { accepting_ = false; }
  const Counters& counters() const noexcept { return counters_; }

 private:
  Verdict drop(DropReason reason, std::size_t answer_length = 0);
  Verdict answer_unknown_connection(std::span<const std::uint8_t> dcid, std::size_t size,
                                    std::uint64_t now_ns, std::span<std::uint8_t> answer);
  Verdict answer_unsupported_version(std::span<const std::uint8_t> dcid,
                                     std::span<const std::uint8_t> scid, std::size_t size,
                                     std::uint64_t now_ns, std::span<std::uint8_t> answer);
  Verdict admit_initial(const SocketAddress& from, std::span<const std::uint8_t> datagram,
                        std::uint64_t now_ns, std::size_t open_connections,
                        std::span<std::uint8_t> answer);
  Verdict refuse(Verdict verdict, const ngtcp2_pkt_hd& header, std::span<std::uint8_t> answer);

  Limits limits_;
  std::shared_ptr<const ServerKeys> keys_;
  std::shared_ptr<const palyra::Clock> clock_;
  WorkerRole role_;
  TokenBucket reset_budget_;
  TokenBucket version_negotiation_budget_;
  bool accepting_ = true;
  std::size_t handshakes_ = 0;
  std::unordered_map<std::string, std::size_t> unvalidated_by_host_;  // handshakes in progress
  std::unordered_map<ConnectionIdKey, std::uint64_t, ConnectionIdKey::Hash> routes_;
  Counters counters_;
};

}  // namespace palyra::transport
