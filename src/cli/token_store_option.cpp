#include "token_store_option.hpp"

#include <string_view>

#if PALYRA_JETSTREAM
#include "palyra/cluster/shared_state.hpp"
#endif

namespace palyra::cli {

void TokenStoreOption::add_to(CLI::App& command) {
  command.add_option("--state-dir", state_dir,
                     "the daemon's state directory (its CA; its tokens.json unless --nats-urls)");
  command.add_option("--nats-urls", nats_urls,
                     "cluster mode: the tokens live in the NATS JetStream cluster's PALYRA_TOKENS "
                     "bucket at these comma-separated nats://HOST:PORT (as palyrad's "
                     "journal.nats_urls)");
  command.add_option("--nats-tls-ca", nats_tls_ca, "cluster mode: as journal.nats_tls_ca");
  command.add_option("--nats-tls-cert", nats_tls_cert, "cluster mode: as journal.nats_tls_cert");
  command.add_option("--nats-tls-key", nats_tls_key, "cluster mode: as journal.nats_tls_key");
}

Result<std::shared_ptr<identity::TokenStore>> TokenStoreOption::open() const {
  if (nats_urls.empty()) {
    return std::shared_ptr<identity::TokenStore>(
        std::make_shared<identity::FileTokenStore>(identity::state_dir_or_default(state_dir)));
  }
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
  auto state = cluster::SharedState::open(options);
  if (!state) return std::move(state).error();
  return (*state)->tokens();
#else
  return Error(Errc::InvalidArgument,
               "--nats-urls: this build has no cluster mode (built without libnats)");
#endif
}

}  // namespace palyra::cli
