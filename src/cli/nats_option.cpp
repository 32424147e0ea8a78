#include "nats_option.hpp"

#include <fmt/format.h>

#if PALYRA_JETSTREAM
#include "palyra/cluster/shared_state.hpp"
#endif

namespace palyra::cli {

void NatsOption::add_to(CLI::App& command, std::string_view what) {
  command.add_option(
      "--nats-urls", nats_urls,
      fmt::format("cluster mode: {} of the NATS JetStream cluster at these "
                  "comma-separated nats://HOST:PORT (as palyrad's journal.nats_urls)",
                  what));
  command.add_option("--nats-tls-ca", nats_tls_ca, "cluster mode: as journal.nats_tls_ca");
  command.add_option("--nats-tls-cert", nats_tls_cert, "cluster mode: as journal.nats_tls_cert");
  command.add_option("--nats-tls-key", nats_tls_key, "cluster mode: as journal.nats_tls_key");
}

Result<std::shared_ptr<cluster::SharedState>> NatsOption::open() const {
#if PALYRA_JETSTREAM
  cluster::SharedStateOptions options;
  std::string_view urls = nats_urls;
  while (!urls.empty()) {
    const auto comma = urls.find(',');
    const std::string_view url = urls.substr(0, comma);
    urls = comma == std::string_view::npos ? std::string_view{} : urls.substr(comma + 1);
    if (!url.empty()) options.servers.urls.emplace_back(url);
  }
  options.servers.tls = {nats_tls_ca, nats_tls_cert, nats_tls_key};
  return cluster::SharedState::open(options);
#else
  return Error(Errc::InvalidArgument,
               "--nats-urls: this build has no cluster mode (built without libnats)");
#endif
}

}  // namespace palyra::cli
