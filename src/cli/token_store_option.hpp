// Where `palyra token create|list|revoke` find the tokens: the state
// directory's tokens.json (one gateway), or with --nats-urls the cluster's
// PALYRA_TOKENS bucket, which every gateway in cluster mode consumes from.
// The bucket must exist (a gateway in cluster mode creates it at start).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "nats_option.hpp"
#include "palyra/common/result.hpp"
#include "palyra/identity/token_store.hpp"

namespace palyra::cli {

struct TokenStoreOption {
  std::string state_dir;
  NatsOption nats;  // not given: tokens.json

  // Adds --state-dir and the --nats-* options to `command`.
  void add_to(CLI::App& command);
  // InvalidArgument for --nats-* in a build without libnats; StorageFailed,
  // NotFound (no bucket yet) from the cluster.
  Result<std::shared_ptr<identity::TokenStore>> open() const;
};

}  // namespace palyra::cli
