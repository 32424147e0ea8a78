#include "token_store_option.hpp"

#if PALYRA_JETSTREAM
#include "palyra/cluster/shared_state.hpp"
#endif

namespace palyra::cli {

void TokenStoreOption::add_to(CLI::App& command) {
  command.add_option("--state-dir", state_dir,
                     "the daemon's state directory (its CA; its tokens.json unless --nats-urls)");
  nats.add_to(command, "the tokens live in the PALYRA_TOKENS bucket");
}

Result<std::shared_ptr<identity::TokenStore>> TokenStoreOption::open() const {
  if (!nats.given()) {
    return std::shared_ptr<identity::TokenStore>(
        std::make_shared<identity::FileTokenStore>(identity::state_dir_or_default(state_dir)));
  }
  auto state = nats.open();
  if (!state) return std::move(state).error();
#if PALYRA_JETSTREAM
  return (*state)->tokens();
#else
  return Error(Errc::InvalidArgument, "--nats-urls: this build has no cluster mode");
#endif
}

}  // namespace palyra::cli
