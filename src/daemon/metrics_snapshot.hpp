// What palyrad's /metrics shows, as plain numbers: taken from the parts'
// own counters when Prometheus scrapes (metrics_collection.cpp), turned
// into Prometheus families by metrics_families.cpp. Nothing here knows
// Prometheus; the parts below the daemon do not know this struct.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "palyra/fallback/call_counts.hpp"
#include "palyra/runtime/enrollment_service.hpp"
#include "palyra/runtime/node_service.hpp"
#include "palyra/transport/io/server.hpp"

namespace palyra::daemon {

struct MetricsSnapshot {
  std::optional<transport::ServerStats> quic;  // none when QUIC is off; all workers'
  // Each QUIC worker's connections (handshaking and established), by index.
  std::vector<std::size_t> quic_worker_connections;
  std::optional<fallback::CallCounts::Tally> grpc_calls;  // none when gRPC is off

  std::uint64_t journal_newest_seq = 0;
  std::size_t journal_queue_depth = 0;
  std::uint64_t journal_retention_removed = 0;
  runtime::NodeService::FollowerStats followers;

  runtime::IssueStats enrollments;
  runtime::IssueStats renewals;

  // Seconds from now until each expires (negative once expired); none
  // when the file could not be read or no device certificate is current.
  std::optional<double> server_certificate_expiry_s;
  std::optional<double> ca_expiry_s;
  std::optional<double> soonest_device_certificate_expiry_s;
};

}  // namespace palyra::daemon
