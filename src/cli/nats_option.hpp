// --nats-urls and --nats-tls-ca|cert|key: how a `palyra` command reaches the
// cluster's shared state (the key-value buckets of palyra/cluster/
// shared_state.hpp) with the same servers and TLS settings as palyrad's
// journal.nats_urls and journal.nats_tls_*. Used by `palyra token` (the
// PALYRA_TOKENS bucket), `palyra cert revoke` (PALYRA_LEDGER and
// PALYRA_REVOKED) and `palyra cert device` (PALYRA_LEDGER and
// PALYRA_DEVICES). The buckets must exist: a gateway in cluster mode
// creates them at start, the CLI never does.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "palyra/common/result.hpp"

namespace palyra::cluster {
class SharedState;
}

namespace palyra::cli {

struct NatsOption {
  std::string nats_urls;  // comma-separated; empty: not in cluster mode
  std::string nats_tls_ca;
  std::string nats_tls_cert;
  std::string nats_tls_key;

  // Adds the four options to `command`; `what` says what --nats-urls makes
  // the command use ("the tokens live in ... PALYRA_TOKENS").
  void add_to(CLI::App& command, std::string_view what);
  bool given() const noexcept { return !nats_urls.empty(); }
  // Connects and binds the existing buckets. InvalidArgument in a build
  // without libnats or for bad TLS settings; StorageFailed (unreachable),
  // NotFound (a bucket missing).
  Result<std::shared_ptr<cluster::SharedState>> open() const;
};

}  // namespace palyra::cli
