// gRPC fallback calls by method and status, counted as each call ends. A
// plain thread-safe tally (gRPC's threads write, a metrics scrape reads);
// how it is exported is the daemon's business.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace palyra::fallback {

class CallCounts {
 public:
  // (method, status) -> calls: ("Call", "OK"), ("StreamEvents", "UNAUTHENTICATED").
  using Tally = std::map<std::pair<std::string, std::string>, std::uint64_t>;

  // `full_method` as gRPC names it ("/palyra.node.v1.NodeTransport/Call");
  // another service's method counts as "other", so the labels stay few.
  void record(std::string_view full_method, int status_code);
  Tally snapshot() const;

 private:
  mutable std::mutex mutex_;
  Tally tally_;
};

// "OK", "CANCELLED", ... for grpc::StatusCode values; "UNKNOWN" otherwise.
const char* grpc_status_name(int status_code) noexcept;

}  // namespace palyra::fallback
