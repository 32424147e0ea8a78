#include "grpc_log.hpp"

#include <grpc/support/log.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace palyra::fallback {
namespace {

void log_through_spdlog(gpr_log_func_args* args) {
  spdlog::level::level_enum level = spdlog::level::debug;
  switch (args->severity) {
    case GPR_LOG_SEVERITY_ERROR:
      level = spdlog::level::err;
      break;
    case GPR_LOG_SEVERITY_INFO:
      level = spdlog::level::info;
      break;
    case GPR_LOG_SEVERITY_DEBUG:
      level = spdlog::level::debug;
      break;
  }
  spdlog::log(level, "grpc: {} at={}:{}", args->message, args->file ? args->file : "?", args->line);
}

}  // namespace

void route_grpc_logs_to_spdlog() {
  static std::once_flag once;
  std::call_once(once, [] { gpr_set_log_function(log_through_spdlog); });
}

}  // namespace palyra::fallback
