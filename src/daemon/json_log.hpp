// palyrad's log lines as JSON (log.format = json): one object per line, for
// log pipelines that index fields instead of grepping text.
//
// Our text lines already carry their facts as `key=value` (a value with
// spaces is quoted): "connection refused peer=… reason=\"…\"". The JSON line
// keeps that text's words as "message" and each pair as a field, so the
// text and JSON formats never drift apart. Stable keys: time, level,
// message, and, when the line has them, peer, device_id, fingerprint (from
// cert_sha256) and error (from reason); other pairs keep their own names.
#pragma once
#include <spdlog/formatter.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace palyra::daemon {

// One line: {"time":"2026-11-29T22:58:01.123Z","level":"warn","message":…}.
std::string json_log_line(std::chrono::system_clock::time_point time, std::string_view level,
                          std::string_view text);

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace palyra::daemon
