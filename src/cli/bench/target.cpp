#include "target.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <iostream>

namespace palyra::cli::bench {

Result<Target> prepare_target(const CommonOptions& options) {
  if (options.time_limit_s == 0) return Error(Errc::InvalidArgument, "--time-limit must be > 0");
  auto connection = resolve(options.connection);
  if (!connection) return std::move(connection).error();
  if (connection->gateways.size() > 1) {
    return Error(Errc::InvalidArgument,
                 "palyra bench measures one gateway: pass one --connect address");
  }
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

Result<std::unique_ptr<LoadConnection>> open_connection(Target& target,
                                                        LoadConnection::Handlers handlers) {
  return LoadConnection::start(*target.loop, target.connection.address, target.tls,
                               target.connection.limits, target.connection.quic,
                               std::move(handlers));
}

Result<std::vector<std::unique_ptr<LoadConnection>>> open_established(
    Target& target, std::size_t count, std::optional<Error>& first_close) {
  std::vector<std::unique_ptr<LoadConnection>> connections;
  for (std::size_t i = 0; i < count; ++i) {
    LoadConnection::Handlers handlers;
    handlers.on_closed = [&first_close](const Error& error) {
      if (!first_close) first_close = error;
    };
    auto connection = open_connection(target, std::move(handlers));
    if (!connection) return std::move(connection).error();
    connections.push_back(std::move(*connection));
  }
  PALYRA_TRY(run_until(
      *target.loop,
      [&] {
        return first_close || std::all_of(connections.begin(), connections.end(),
                                          [](const auto& c) { return c->established(); });
      },
      target.time_limit, "connecting"));
  if (first_close) return *first_close;
  return connections;
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
