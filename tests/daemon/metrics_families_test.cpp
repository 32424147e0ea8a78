// The names /metrics shows, by Prometheus practice: the palyra_ prefix,
// _total on every counter and only there, base units, labels with few
// values; and the snapshot's numbers where they belong.
#include "metrics_families.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace palyra::daemon {
namespace {

MetricsSnapshot full_snapshot() {
  MetricsSnapshot s;
  transport::ServerStats quic;
  quic.handshakes[static_cast<std::size_t>(transport::HandshakeResult::Revoked)] = 3;
  quic.closes_by_peer[static_cast<std::size_t>(transport::CloseCause::NoError)] = 2;
  quic.closes_by_us[static_cast<std::size_t>(transport::CloseCause::IdleTimeout)] = 1;
  quic.connections_established = 5;
  quic.bytes_out = 1200;
  quic.datagrams_dropped[static_cast<std::size_t>(transport::DropReason::UnknownConnection)] = 7;
  quic.version_negotiations_suppressed = 4;
  quic.incomplete_frame_bytes = 300;
  quic.request_streams_stopped_over_budget = 6;
  quic.request_streams_stopped_stalled = 8;
  quic.new_tokens_issued = 7;
  quic.new_tokens_accepted = 4;
  s.quic = quic;
  s.grpc_calls = fallback::CallCounts::Tally{{{"Health", "OK"}, 4}};
  s.journal_newest_seq = 42;
  s.followers = {2, 7};
  s.enrollments.locked_out = 1;
  s.server_certificate_expiry_s = 10;
  s.ca_expiry_s = 20;
  s.soonest_device_certificate_expiry_s = -5;
  return s;
}

double value_of(const std::vector<prometheus::MetricFamily>& families, const std::string& name,
                const std::vector<prometheus::ClientMetric::Label>& labels = {}) {
  for (const auto& family : families) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      if (metric.label != labels) continue;
      return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                            : metric.gauge.value;
    }
  }
  ADD_FAILURE() << "no sample " << name;
  return -1;
}

TEST(MetricFamiliesTest, NamesFollowPrometheusPractice) {
  const auto families = metric_families(full_snapshot(), "9.9.9");
  const std::regex name("palyra_[a-z_]+");
  const std::set<std::string> allowed_labels = {"version", "state",  "result", "cause",
                                                "by",      "method", "status", "reason"};
  std::set<std::string> names;
  for (const auto& family : families) {
    EXPECT_TRUE(std::regex_match(family.name, name)) << family.name;
    EXPECT_TRUE(names.insert(family.name).second) << "one family per name: " << family.name;
    EXPECT_FALSE(family.help.empty()) << family.name;
    const bool counter = family.type == prometheus::MetricType::Counter;
    EXPECT_EQ(counter, family.name.ends_with("_total")) << family.name;
    EXPECT_FALSE(family.name.ends_with("_ms") || family.name.ends_with("_milliseconds"))
        << "base units: " << family.name;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        EXPECT_TRUE(allowed_labels.contains(label.name)) << family.name << " " << label.name;
      }
    }
  }
}

TEST(MetricFamiliesTest, TheSnapshotsNumbersLandOnTheirSamples) {
  const auto f = metric_families(full_snapshot(), "9.9.9");
  EXPECT_EQ(value_of(f, "palyra_build_info", {{"version", "9.9.9"}}), 1);
  EXPECT_EQ(value_of(f, "palyra_quic_handshakes_total", {{"result", "revoked"}}), 3);
  EXPECT_EQ(value_of(f, "palyra_quic_handshakes_total", {{"result", "ok"}}), 0);
  EXPECT_EQ(
      value_of(f, "palyra_quic_connection_closes_total", {{"cause", "no_error"}, {"by", "peer"}}),
      2);
  EXPECT_EQ(value_of(f, "palyra_quic_connection_closes_total",
                     {{"cause", "idle_timeout"}, {"by", "local"}}),
            1);
  EXPECT_EQ(
      value_of(f, "palyra_quic_connection_closes_total", {{"cause", "revoked"}, {"by", "local"}}),
      0)
      << "every cause is shown, zero or not, so rates start from the first scrape";
  EXPECT_EQ(value_of(f, "palyra_quic_connections", {{"state", "established"}}), 5);
  EXPECT_EQ(value_of(f, "palyra_quic_sent_bytes_total"), 1200);
  EXPECT_EQ(value_of(f, "palyra_quic_datagrams_dropped_total", {{"reason", "unknown_connection"}}),
            7);
  EXPECT_EQ(value_of(f, "palyra_quic_datagrams_dropped_total", {{"reason", "malformed"}}), 0);
  EXPECT_EQ(value_of(f, "palyra_quic_version_negotiations_total", {{"result", "suppressed"}}), 4);
  EXPECT_EQ(value_of(f, "palyra_quic_incomplete_frame_bytes"), 300);
  EXPECT_EQ(value_of(f, "palyra_quic_request_streams_stopped_total", {{"reason", "frame_budget"}}),
            6);
  EXPECT_EQ(value_of(f, "palyra_quic_request_streams_stopped_total", {{"reason", "frame_timeout"}}),
            8);
  EXPECT_EQ(value_of(f, "palyra_quic_new_tokens_total", {{"result", "issued"}}), 7);
  EXPECT_EQ(value_of(f, "palyra_quic_new_tokens_total", {{"result", "accepted"}}), 4);
  EXPECT_EQ(value_of(f, "palyra_quic_new_tokens_total", {{"result", "ignored"}}), 0);
  EXPECT_EQ(value_of(f, "palyra_grpc_calls_total", {{"method", "Health"}, {"status", "OK"}}), 4);
  EXPECT_EQ(value_of(f, "palyra_journal_newest_seq"), 42);
  EXPECT_EQ(value_of(f, "palyra_journal_followers"), 2);
  EXPECT_EQ(value_of(f, "palyra_journal_slowest_follower_lag_events"), 7);
  EXPECT_EQ(value_of(f, "palyra_enrollments_total", {{"result", "locked_out"}}), 1);
  EXPECT_EQ(value_of(f, "palyra_device_certificate_soonest_expiry_seconds"), -5);
}

TEST(MetricFamiliesTest, WhatIsOffOrUnknownIsAbsentNotZero) {
  const auto families = metric_families(MetricsSnapshot{}, "9.9.9");
  for (const auto& family : families) {
    EXPECT_FALSE(family.name.starts_with("palyra_quic_")) << "QUIC off: " << family.name;
    EXPECT_FALSE(family.name.starts_with("palyra_grpc_")) << "gRPC off: " << family.name;
    EXPECT_FALSE(family.name.ends_with("_expiry_seconds")) << "unreadable: " << family.name;
  }
}

}  // namespace
}  // namespace palyra::daemon
