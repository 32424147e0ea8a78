#include "target.hpp"

#include <sys/resource.h>

#include <fmt/format.h>

#include <iostream>

namespace palyra::cli::bench {

Result<Target> prepare_target(const CommonOptions& options) {
  if (options.time_limit_s == 0) return Error(Errc::InvalidArgument, "--time-limit must be > 0");
  auto connection = resolve(options.connection);
  if (!connection) return std::move(connection).error();
  auto tls = transport::load_client_tls(connection->tls);
  if (!tls) return std::move(tls).error();
  auto loop = transport::EventLoop::create();
  if (!loop) return std::move(loop).error();
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  return Target{std::move(*connection), std::move(*tls), std::move(*loop),
                std::chrono::seconds(options.time_limit_s)};
}

std::string payload_of_size(std::uint64_t bytes) {
  if (bytes < 2) return "0";
  return "\"" + std::string(bytes - 2, 'x') + "\"";
}

int report_failure(std::string_view what, const Error& error) {
  std::cerr << fmt::format("palyra bench {}: {}\n", what, error.describe());
  return error.code() == Errc::InvalidArgument ? 2 : 1;
}

}  // namespace palyra::cli::bench
