// Names follow Prometheus practice: the palyra_ prefix, base units (seconds,
// bytes), _total on counters, and labels with a handful of values only
// (never a peer address or a device id).
#include "metrics_families.hpp"

#include <string>
#include <utility>

namespace palyra::daemon {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

class Families {
 public:
  void counter(const char* name, const char* help, double value, Labels labels = {}) {
    ClientMetric metric;
    metric.label = std::move(labels);
    metric.counter.value = value;
    family(name, help, MetricType::Counter).metric.push_back(std::move(metric));
  }
  void gauge(const char* name, const char* help, double value, Labels labels = {}) {
    ClientMetric metric;
    metric.label = std::move(labels);
    metric.gauge.value = value;
    family(name, help, MetricType::Gauge).metric.push_back(std::move(metric));
  }
  std::vector<MetricFamily> take() { return std::move(families_); }

 private:
  // Samples of one name share a family (consecutive calls).
  MetricFamily& family(const char* name, const char* help, MetricType type) {
    if (families_.empty() || families_.back().name != name) {
      families_.push_back(MetricFamily{name, help, type, {}});
    }
    return families_.back();
  }
  std::vector<MetricFamily> families_;
};

void add_quic(Families& f, const transport::ServerStats& quic) {
  f.gauge("palyra_quic_connections", "QUIC connections by state",
          static_cast<double>(quic.connections_handshaking), {{"state", "handshaking"}});
  f.gauge("palyra_quic_connections", "QUIC connections by state",
          static_cast<double>(quic.connections_established), {{"state", "established"}});
  for (std::size_t i = 0; i < transport::kHandshakeResultCount; ++i) {
    const auto result = static_cast<transport::HandshakeResult>(i);
    f.counter("palyra_quic_handshakes_total", "QUIC handshakes by how they ended",
              static_cast<double>(quic.handshakes[i]),
              {{"result", std::string(transport::handshake_result_name(result))}});
  }
  for (std::size_t i = 0; i < transport::kCloseCauseCount; ++i) {
    const std::string cause(transport::close_cause_name(static_cast<transport::CloseCause>(i)));
    for (const bool by_peer : {false, true}) {
      const auto count = by_peer ? quic.closes_by_peer[i] : quic.closes_by_us[i];
      f.counter("palyra_quic_connection_closes_total",
                "established QUIC connections that ended, by cause and by who ended them "
                "(local: this daemon or a timeout; peer: the peer's CONNECTION_CLOSE or reset)",
                static_cast<double>(count), {{"cause", cause}, {"by", by_peer ? "peer" : "local"}});
    }
  }
  f.counter("palyra_quic_retries_sent_total",
            "Retry packets sent (address validation under load, or gateway.retry = always)",
            static_cast<double>(quic.retries_sent));
  f.counter("palyra_quic_retry_tokens_validated_total",
            "Initials that came back with a valid Retry token",
            static_cast<double>(quic.retry_tokens_validated));
  f.counter(
      "palyra_quic_invalid_tokens_total",
      "Initials with a forged, expired or other address's token (CONNECTION_CLOSE INVALID_TOKEN)",
      static_cast<double>(quic.invalid_tokens));
  constexpr const char* kNewTokensHelp =
      "NEW_TOKEN address tokens: issued to established clients, and presented in Initials "
      "(accepted in place of a Retry, or ignored: expired, another address's, forged)";
  f.counter("palyra_quic_new_tokens_total", kNewTokensHelp,
            static_cast<double>(quic.new_tokens_issued), {{"result", "issued"}});
  f.counter("palyra_quic_new_tokens_total", kNewTokensHelp,
            static_cast<double>(quic.new_tokens_accepted), {{"result", "accepted"}});
  f.counter("palyra_quic_new_tokens_total", kNewTokensHelp,
            static_cast<double>(quic.new_tokens_ignored), {{"result", "ignored"}});
  f.counter(
      "palyra_quic_stateless_resets_total",
      "stateless resets for packets of unknown connections, by whether the rate limit let them out",
      static_cast<double>(quic.stateless_resets_sent), {{"result", "sent"}});
  f.counter(
      "palyra_quic_stateless_resets_total",
      "stateless resets for packets of unknown connections, by whether the rate limit let them out",
      static_cast<double>(quic.stateless_resets_suppressed), {{"result", "suppressed"}});
  f.counter("palyra_quic_version_negotiations_total",
            "Version Negotiation answers to other QUIC versions, by whether the rate limit let "
            "them out",
            static_cast<double>(quic.version_negotiations_sent), {{"result", "sent"}});
  f.counter("palyra_quic_version_negotiations_total",
            "Version Negotiation answers to other QUIC versions, by whether the rate limit let "
            "them out",
            static_cast<double>(quic.version_negotiations_suppressed), {{"result", "suppressed"}});
  for (std::size_t i = 0; i < transport::kDropReasonCount; ++i) {
    const auto reason = static_cast<transport::DropReason>(i);
    f.counter("palyra_quic_datagrams_dropped_total",
              "datagrams that reached no connection and left no state, by why",
              static_cast<double>(quic.datagrams_dropped[i]),
              {{"reason", std::string(transport::drop_reason_name(reason))}});
  }
  f.gauge("palyra_quic_streams_open", "open QUIC streams across all connections",
          static_cast<double>(quic.streams_open));
  f.gauge("palyra_quic_incomplete_frame_bytes",
          "bytes held in request frames that have not completed, across all connections",
          static_cast<double>(quic.incomplete_frame_bytes));
  f.counter("palyra_quic_request_streams_stopped_total",
            "request streams stopped for their incomplete frame, by why",
            static_cast<double>(quic.request_streams_stopped_over_budget),
            {{"reason", "frame_budget"}});
  f.counter("palyra_quic_request_streams_stopped_total",
            "request streams stopped for their incomplete frame, by why",
            static_cast<double>(quic.request_streams_stopped_stalled),
            {{"reason", "frame_timeout"}});
  constexpr const char* kForwardedHelp =
      "datagrams a QUIC worker's socket received for another worker's connection (a NAT "
      "rebinding moved the client), by whether that worker's inbox took them";
  f.counter("palyra_quic_datagrams_forwarded_total", kForwardedHelp,
            static_cast<double>(quic.datagrams_forwarded), {{"result", "forwarded"}});
  f.counter("palyra_quic_datagrams_forwarded_total", kForwardedHelp,
            static_cast<double>(quic.datagrams_forward_dropped), {{"result", "dropped"}});
  f.counter("palyra_quic_datagrams_received_total", "UDP datagrams received by the QUIC listener",
            static_cast<double>(quic.datagrams_in));
  f.counter("palyra_quic_datagrams_sent_total", "UDP datagrams sent by the QUIC listener",
            static_cast<double>(quic.datagrams_out));
  f.counter("palyra_quic_received_bytes_total", "UDP payload bytes received by the QUIC listener",
            static_cast<double>(quic.bytes_in));
  f.counter("palyra_quic_sent_bytes_total", "UDP payload bytes sent by the QUIC listener",
            static_cast<double>(quic.bytes_out));
}

void add_grpc(Families& f, const fallback::CallCounts::Tally& calls) {
  for (const auto& [key, count] : calls) {
    f.counter("palyra_grpc_calls_total", "gRPC fallback calls that ended, by method and status",
              static_cast<double>(count), {{"method", key.first}, {"status", key.second}});
  }
}

void add_issuing(Families& f, const char* name, const char* help, const runtime::IssueStats& s,
                 bool with_lockout) {
  f.counter(name, help, static_cast<double>(s.accepted), {{"result", "accepted"}});
  f.counter(name, help, static_cast<double>(s.refused), {{"result", "refused"}});
  // Only enrollment locks an address out (renewals come from known devices).
  if (with_lockout) {
    f.counter(name, help, static_cast<double>(s.locked_out), {{"result", "locked_out"}});
  }
}

void add_expiry(Families& f, const char* name, const char* help,
                const std::optional<double>& seconds) {
  if (seconds) f.gauge(name, help, *seconds);
}

}  // namespace

std::vector<MetricFamily> metric_families(const MetricsSnapshot& s, std::string_view version) {
  Families f;
  f.gauge("palyra_build_info", "always 1; the version label says which palyrad this is", 1,
          {{"version", std::string(version)}});
  if (s.quic) add_quic(f, *s.quic);
  for (std::size_t i = 0; i < s.quic_worker_connections.size(); ++i) {
    f.gauge("palyra_quic_worker_connections",
            "QUIC connections (handshaking and established) each worker holds: how "
            "gateway.workers split the load",
            static_cast<double>(s.quic_worker_connections[i]), {{"worker", std::to_string(i)}});
  }
  if (s.grpc_calls) add_grpc(f, *s.grpc_calls);
  f.gauge("palyra_journal_newest_seq", "sequence number of the newest durable event",
          static_cast<double>(s.journal_newest_seq));
  f.gauge("palyra_journal_append_queue_depth", "appends waiting for the journal's writer",
          static_cast<double>(s.journal_queue_depth));
  f.counter("palyra_journal_retention_removed_events_total",
            "events removed by the retention policy since start",
            static_cast<double>(s.journal_retention_removed));
  f.gauge("palyra_journal_followers", "event streams following the journal (follow=true)",
          static_cast<double>(s.followers.followers));
  f.gauge("palyra_journal_slowest_follower_lag_events",
          "events the follower furthest behind has yet to receive",
          static_cast<double>(s.followers.slowest_lag));
  add_issuing(f, "palyra_enrollments_total", "node.enroll calls by result", s.enrollments, true);
  add_issuing(f, "palyra_renewals_total", "node.renew_certificate calls by result", s.renewals,
              false);
  add_expiry(f, "palyra_server_certificate_expiry_seconds",
             "seconds until the server certificate expires", s.server_certificate_expiry_s);
  add_expiry(f, "palyra_ca_certificate_expiry_seconds", "seconds until the gateway CA expires",
             s.ca_expiry_s);
  add_expiry(f, "palyra_device_certificate_soonest_expiry_seconds",
             "seconds until the first unrevoked device certificate expires (a device's newest "
             "certificate; negative when already expired)",
             s.soonest_device_certificate_expiry_s);
  return f.take();
}

}  // namespace palyra::daemon
