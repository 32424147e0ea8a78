// The server's front door: see datagram_dispatcher.hpp.
#include "datagram_dispatcher.hpp"

#include <ngtcp2/ngtcp2.h>

#include <utility>

#include "address_tokens.hpp"
#include "stateless_packets.hpp"

namespace palyra::transport {
namespace {

constexpr std::size_t kServerCidLength = 16;  // as Connection::accept chooses

bool is_long_header(std::span<const std::uint8_t> datagram) noexcept {
  return (datagram[0] & 0x80) != 0;
}

std::uint32_t read_version(std::span<const std::uint8_t> datagram) noexcept {
  return (std::uint32_t{datagram[1]} << 24) | (std::uint32_t{datagram[2]} << 16) |
         (std::uint32_t{datagram[3]} << 8) | std::uint32_t{datagram[4]};
}

std::string cid_string(const ngtcp2_cid& cid) {
  return std::string(reinterpret_cast<const char*>(cid.data), cid.datalen);
}

}  // namespace

DatagramDispatcher::DatagramDispatcher(const Limits& limits, std::shared_ptr<const ServerKeys> keys,
                                       std::shared_ptr<const palyra::Clock> clock, WorkerRole role)
    : limits_(limits),
      keys_(std::move(keys)),
      clock_(clock ? std::move(clock) : system_clock()),
      role_(std::move(role)),
      reset_budget_(limits.stateless_resets_per_second, limits.stateless_resets_per_second),
      // Version Negotiation is as unsolicited as a reset: the same budget, apart.
      version_negotiation_budget_(limits.stateless_resets_per_second,
                                  limits.stateless_resets_per_second) {}

// Everything up to a route lookup or a drop works on the datagram in place:
// ngtcp2_pkt_decode_version_cid only points into it, and the route key is
// on the stack.
DatagramDispatcher::Verdict DatagramDispatcher::dispatch(const SocketAddress& from,
                                                         std::span<const std::uint8_t> datagram,
                                                         std::uint64_t now_ns,
                                                         std::size_t open_connections,
                                                         std::span<std::uint8_t> answer) {
  if (datagram.empty()) return drop(DropReason::Malformed);
  ngtcp2_version_cid header{};
  const int rv =
      ngtcp2_pkt_decode_version_cid(&header, datagram.data(), datagram.size(), kServerCidLength);
  const std::span<const std::uint8_t> dcid{header.dcid, header.dcidlen};
  const std::span<const std::uint8_t> scid{header.scid, header.scidlen};
  const bool long_header = is_long_header(datagram);
  // We speak QUIC v1 alone (ngtcp2 also takes some pre-v1 drafts). Another
  // version is not ours to parse: RFC 8999 gives us only its version field,
  // and its CIDs when ngtcp2 could read them (it asks for a Version
  // Negotiation only from an Initial-sized datagram).
  if (long_header && datagram.size() >= 5 && read_version(datagram) != NGTCP2_PROTO_VER_V1) {
    const bool negotiable = rv == 0 || rv == NGTCP2_ERR_VERSION_NEGOTIATION;
    // Version 0 is a Version Negotiation itself: never answered (RFC 8999).
    if (!negotiable || read_version(datagram) == 0) return drop(DropReason::UnsupportedVersion);
    return answer_unsupported_version(dcid, scid, datagram.size(), now_ns, answer);
  }
  if (rv != 0) return drop(DropReason::Malformed);
  if (auto key = ConnectionIdKey::of(dcid)) {
    auto route = routes_.find(*key);
    if (route != routes_.end()) {
      Verdict verdict;
      verdict.action = Action::Deliver;
      verdict.connection_id = route->second;
      return verdict;
    }
  }
  // Not one of ours: it may be another worker's (a NAT rebinding moved its
  // client's hash). Asked only after the route lookup missed, so a
  // connection's own datagrams never pay the decryption.
  if (role_.cids) {
    const auto owner = role_.cids->owner_of_datagram(datagram);
    if (owner && *owner != role_.cids->worker()) {
      Verdict verdict;
      verdict.action = Action::Forward;
      verdict.worker = *owner;
      return verdict;
    }
  }
  if (!long_header) return answer_unknown_connection(dcid, datagram.size(), now_ns, answer);
  if (!accepting_) return drop(DropReason::Draining);
  return admit_initial(from, datagram, now_ns, open_connections, answer);
}

DatagramDispatcher::Verdict DatagramDispatcher::drop(DropReason reason, std::size_t answer_length) {
  ++counters_.dropped[static_cast<std::size_t>(reason)];
  Verdict verdict;
  verdict.drop_reason = reason;
  verdict.answer_length = answer_length;
  return verdict;
}

// A short-header packet for a connection we do not know (one of a previous
// life, or long gone): a Stateless Reset tells its sender at once, within
// the rate limit.
DatagramDispatcher::Verdict DatagramDispatcher::answer_unknown_connection(
    std::span<const std::uint8_t> dcid, std::size_t size, std::uint64_t now_ns,
    std::span<std::uint8_t> answer) {
  if (size < kMinStatelessResetTrigger) return drop(DropReason::UnknownConnection);
  if (!reset_budget_.take(now_ns)) {
    ++counters_.stateless_resets_suppressed;
    return drop(DropReason::UnknownConnection);
  }
  const std::size_t n = write_stateless_reset(answer, dcid, size, *keys_);
  if (n > 0) ++counters_.stateless_resets_sent;
  return drop(DropReason::UnknownConnection, n);
}

// RFC 9000 §6.1: a client of another version learns ours, within the rate
// limit and only from a datagram as large as an Initial.
DatagramDispatcher::Verdict DatagramDispatcher::answer_unsupported_version(
    std::span<const std::uint8_t> dcid, std::span<const std::uint8_t> scid, std::size_t size,
    std::uint64_t now_ns, std::span<std::uint8_t> answer) {
  if (size < NGTCP2_MAX_UDP_PAYLOAD_SIZE) return drop(DropReason::UnsupportedVersion);
  if (!version_negotiation_budget_.take(now_ns)) {
    ++counters_.version_negotiations_suppressed;
    return drop(DropReason::UnsupportedVersion);
  }
  const std::size_t n = write_version_negotiation(answer, dcid, scid, size);
  if (n > 0) ++counters_.version_negotiations_sent;
  return drop(DropReason::UnsupportedVersion, n);
}

// A new client's Initial: refused at the limits, sent a Retry when its
// address is to be proven first, refused when its token is bad; otherwise
// it is to become a connection. Nothing here keeps state for it.
DatagramDispatcher::Verdict DatagramDispatcher::admit_initial(
    const SocketAddress& from, std::span<const std::uint8_t> datagram, std::uint64_t now_ns,
    std::size_t open_connections, std::span<std::uint8_t> answer) {
  ngtcp2_pkt_hd header{};
  // Not an Initial we could accept (0-RTT, Handshake, a short Initial, ...).
  if (ngtcp2_accept(&header, datagram.data(), datagram.size()) != 0) {
    return drop(DropReason::NotInitial);
  }
  Verdict verdict;
  verdict.accept_options.keys = keys_;
  verdict.accept_options.worker_cids = role_.cids;
  if (is_retry_token(header)) {
    auto original_dcid = verify_retry_token(header, from, *keys_, now_ns);
    if (!original_dcid) {
      ++counters_.invalid_tokens;
      verdict.action = Action::RejectToken;
      verdict.answer_length = write_initial_close(answer, header, NGTCP2_INVALID_TOKEN);
      return verdict;
    }
    verdict.accept_options.retried =
        AcceptOptions::Retried{cid_string(*original_dcid), cid_string(header.dcid)};
    ++counters_.retry_tokens_validated;
  } else if (const std::span<const std::uint8_t> token(header.token.base, header.token.len);
             is_new_token(token)) {
    // RFC 9000 §8.1.3: a NEW_TOKEN token that does not validate (expired,
    // another address, not ours) must not end the attempt — its client may
    // simply have moved. The Initial counts as token-less.
    verdict.accept_options.new_token_validated =
        verify_new_token(token, from, *keys_, clock_->now());
    ++(verdict.accept_options.new_token_validated ? counters_.new_tokens_accepted
                                                  : counters_.new_tokens_ignored);
  }
  // (A token of another kind is not ours to honour: the Initial counts as
  // token-less.)
  // With several workers the caps are daemon-wide (the shared counts).
  const std::size_t connections =
      role_.admission ? role_.admission->connections() : open_connections;
  const std::size_t handshakes = role_.admission ? role_.admission->handshakes() : handshakes_;
  if (connections >= limits_.max_connections || handshakes >= limits_.max_handshakes) {
    return refuse(std::move(verdict), header, answer);
  }
  if (!verdict.accept_options.retried && !verdict.accept_options.new_token_validated) {
    verdict.unvalidated_host = from.host();
    auto it = unvalidated_by_host_.find(verdict.unvalidated_host);
    const bool host_at_limit =
        it != unvalidated_by_host_.end() && it->second >= limits_.max_handshakes_per_address;
    const bool busy = handshakes >= limits_.retry_threshold || host_at_limit;
    if (limits_.retry == RetryPolicy::Always || (limits_.retry == RetryPolicy::Auto && busy)) {
      ++counters_.retries_sent;
      verdict.action = Action::Retry;
      verdict.answer_length = write_retry(answer, header, from, *keys_, now_ns);
      return verdict;
    }
    if (host_at_limit) return refuse(std::move(verdict), header, answer);
  }
  // The shared counts may have filled since they were read: another
  // worker's Initial raced this one. The reservation decides.
  if (role_.admission && !role_.admission->try_admit()) {
    return refuse(std::move(verdict), header, answer);
  }
  verdict.action = Action::Accept;
  return verdict;
}

DatagramDispatcher::Verdict DatagramDispatcher::refuse(Verdict verdict, const ngtcp2_pkt_hd& header,
                                                       std::span<std::uint8_t> answer) {
  ++counters_.refused_over_capacity;
  verdict.action = Action::Refuse;
  verdict.answer_length = write_initial_close(answer, header, NGTCP2_CONNECTION_REFUSED);
  return verdict;
}

void DatagramDispatcher::add_route(std::string_view cid, std::uint64_t id) {
  if (auto key = ConnectionIdKey::of(cid)) routes_[*key] = id;
}

void DatagramDispatcher::remove_route(std::string_view cid, std::uint64_t id) {
  auto key = ConnectionIdKey::of(cid);
  if (!key) return;
  auto route = routes_.find(*key);
  if (route != routes_.end() && route->second == id) routes_.erase(route);
}

void DatagramDispatcher::handshake_began(const std::string& unvalidated_host) {
  ++handshakes_;
  if (!unvalidated_host.empty()) ++unvalidated_by_host_[unvalidated_host];
}

void DatagramDispatcher::handshake_ended(const std::string& unvalidated_host) {
  if (handshakes_ > 0) --handshakes_;
  if (role_.admission) role_.admission->handshake_ended();
  if (unvalidated_host.empty()) return;
  auto it = unvalidated_by_host_.find(unvalidated_host);
  if (it != unvalidated_by_host_.end() && --it->second == 0) unvalidated_by_host_.erase(it);
}

void DatagramDispatcher::connection_gone() {
  if (role_.admission) role_.admission->connection_closed();
}

void DatagramDispatcher::accept_abandoned() {
  if (!role_.admission) return;
  role_.admission->handshake_ended();
  role_.admission->connection_closed();
}

}  // namespace palyra::transport
