// palyra token create|list|revoke (on the daemon's host), palyra enroll and
// palyra cert renew (on a node): how a node joins and keeps its identity
// (PROTOCOL.md §7).
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "connection_options.hpp"
#include "device_renewal.hpp"
#include "key_type_option.hpp"
#include "node_connection.hpp"
#include "palyra/identity/csr.hpp"
#include "palyra/identity/device_identity.hpp"
#include "palyra/identity/enrollment_token.hpp"
#include "palyra/identity/store.hpp"
#include "palyra/identity/token_store.hpp"
#include "palyra/runtime/protocol.hpp"
#include "token_store_option.hpp"

namespace palyra::cli {
namespace {

using identity::StateDir;

int fail(const Error& error, std::string_view doing) {
  std::cerr << "palyra: " << doing << ": " << error.describe() << "\n";
  switch (error.code()) {
    case Errc::InvalidArgument:
    case Errc::InvalidDeviceId:
    case Errc::InvalidDuration:
      return kExitUsage;
    default:
      return kExitFailure;
  }
}

std::string token_state(const identity::TokenRecord& record, std::int64_t now) {
  if (record.revoked) return "revoked";
  if (record.expires_unix <= now) return "expired";
  if (record.uses_left == 0) return "used up";
  return "active";
}

std::string unix_utc(std::int64_t seconds) {
  return identity::format_utc(
      std::chrono::system_clock::from_time_t(static_cast<std::time_t>(seconds)));
}

// --- palyra token ---

void add_token_commands(CLI::App& root, CommandContext& context) {
  CLI::App* token = root.add_subcommand(
      "token", "One-time enrollment tokens, made on the daemon's host, with which new nodes join");
  token->require_subcommand(1);

  struct CreateOptions {
    TokenStoreOption store;
    std::string device;
    std::string ttl = "15m";
    std::uint32_t uses = 1;
    bool json = false;
  };
  auto create_options = std::make_shared<CreateOptions>();
  CLI::App* create = token->add_subcommand(
      "create",
      "Make a token. Its text (the last line printed) is all a node needs to join, with the "
      "daemon's address: `palyra enroll TOKEN --connect HOST:PORT`. It carries the hash of the "
      "gateway CA, so the node refuses any other daemon before sending the secret. Only a hash of "
      "the secret is stored.");
  create_options->store.add_to(*create);
  create->add_option("--device", create_options->device,
                     "the only device id this token may enroll (default: any id the node asks "
                     "for that is not in use)");
  create->add_option("--ttl", create_options->ttl, "how long the token is valid (90s, 15m, 2h)")
      ->capture_default_str();
  create->add_option("--uses", create_options->uses, "how many nodes may enroll with it")
      ->capture_default_str();
  create->add_flag("--json", create_options->json, "one JSON object instead of text");
  create->callback([create_options, &context] {
    auto ttl = identity::parse_duration(create_options->ttl);
    if (!ttl) {
      context.exit_code = fail(ttl.error(), "token create: --ttl");
      return;
    }
    const StateDir dir = identity::state_dir_or_default(create_options->store.state_dir);
    auto ca_hash = identity::IdentityStore(dir).signing_ca_spki_sha256();
    if (!ca_hash) {
      context.exit_code = fail(ca_hash.error(), "token create");
      return;
    }
    identity::TokenCreateOptions options;
    options.ttl = *ttl;
    options.uses = create_options->uses;
    if (!create_options->device.empty()) options.device_id = create_options->device;
    const auto now = std::chrono::system_clock::now();
    auto store = create_options->store.open();
    if (!store) {
      context.exit_code = fail(store.error(), "token create");
      return;
    }
    auto created = (*store)->create(options, *ca_hash, now);
    if (!created) {
      context.exit_code = fail(created.error(), "token create");
      return;
    }
    const std::string expires = identity::format_utc(now + *ttl);
    if (create_options->json) {
      nlohmann::json out{{"id", created->id},
                         {"expires", expires},
                         {"uses", options.uses},
                         {"device_id", options.device_id ? nlohmann::json(*options.device_id)
                                                         : nlohmann::json(nullptr)},
                         {"ca_sha256", created->ca_hash},
                         {"token", created->text()}};
      std::cout << out.dump() << "\n";
      return;
    }
    std::cout << fmt::format("token {}: {} use(s), expires {}, {}\n", created->id, options.uses,
                             expires,
                             options.device_id ? "device id " + *options.device_id
                                               : std::string("any unused device id"));
    std::cout << created->text() << "\n";
  });

  struct ListOptions {
    TokenStoreOption store;
    bool json = false;
  };
  auto list_options = std::make_shared<ListOptions>();
  CLI::App* list = token->add_subcommand("list", "List the tokens (never their secrets)");
  list_options->store.add_to(*list);
  list->add_flag("--json", list_options->json, "a JSON array instead of a table");
  list->callback([list_options, &context] {
    auto store = list_options->store.open();
    if (!store) {
      context.exit_code = fail(store.error(), "token list");
      return;
    }
    auto records = (*store)->list();
    if (!records) {
      context.exit_code = fail(records.error(), "token list");
      return;
    }
    const std::int64_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    if (list_options->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : *records) {
        out.push_back(
            {{"id", r.id},
             {"state", token_state(r, now)},
             {"expires", unix_utc(r.expires_unix)},
             {"uses_left", r.uses_left},
             {"device_id", r.device_id ? nlohmann::json(*r.device_id) : nlohmann::json(nullptr)}});
      }
      std::cout << out.dump() << "\n";
      return;
    }
    std::cout << fmt::format("{:<10} {:<8} {:<21} {:>9}  {}\n", "ID", "STATE", "EXPIRES",
                             "USES LEFT", "DEVICE");
    for (const auto& r : *records) {
      std::cout << fmt::format("{:<10} {:<8} {:<21} {:>9}  {}\n", r.id, token_state(r, now),
                               unix_utc(r.expires_unix), r.uses_left,
                               r.device_id.value_or("(any)"));
    }
  });

  struct RevokeOptions {
    TokenStoreOption store;
    std::string id;
  };
  auto revoke_options = std::make_shared<RevokeOptions>();
  CLI::App* revoke = token->add_subcommand("revoke", "Make a token unusable at once");
  revoke->add_option("TOKEN_ID", revoke_options->id, "the token's id (its first 8 hex digits)")
      ->required();
  revoke_options->store.add_to(*revoke);
  revoke->callback([revoke_options, &context] {
    auto store = revoke_options->store.open();
    if (!store) {
      context.exit_code = fail(store.error(), "token revoke");
      return;
    }
    auto revoked = (*store)->revoke(revoke_options->id);
    if (!revoked) {
      context.exit_code = fail(revoked.error(), "token revoke");
      return;
    }
    std::cout << fmt::format("token {} revoked\n", revoke_options->id);
  });
}

// --- palyra enroll ---

struct EnrollOptions {
  ConnectionOptions connection;
  std::string token;
  std::string device;
  std::string key_type;
};

// The daemon's answer to node.enroll, or why there is none.
Result<runtime::Response> call_enroll(const ResolvedConnection& c, const std::string& request) {
  auto client = open_node_connection(c, /*privileged=*/false);
  if (!client) return std::move(client).error();
  std::optional<runtime::Response> answer;
  Status called =
      (*client)->call(request, c.timeout, false,
                      [&answer](const runtime::Response& r, const std::string&) -> Result<Next> {
                        answer = r;
                        return Next::Stop;
                      });
  (*client)->close();
  PALYRA_TRY(called);
  if (!answer) return Error(Errc::ConnectionClosed, "the daemon ended the call without an answer");
  return std::move(*answer);
}

int enroll(const EnrollOptions& options) {
  auto token = identity::parse_enrollment_token(options.token);
  if (!token) return fail(token.error(), "enroll");
  const StateDir dir = identity::state_dir_or_default(options.connection.state_dir);
  std::error_code ec;
  if (std::filesystem::exists(dir.ca_key(), ec)) {
    return fail(Error(Errc::InvalidArgument,
                      fmt::format("{} holds a CA key: it is a daemon's state directory, not a "
                                  "node's; choose another with --state-dir",
                                  dir.root.string())),
                "enroll");
  }
  if (!options.device.empty()) {
    if (auto valid = identity::validate_device_id(options.device); !valid) {
      return fail(valid.error(), "enroll");
    }
  }
  auto key_type = key_type_option(options.key_type);
  if (!key_type) return fail(key_type.error(), "enroll");
  auto connection = resolve_enrollment(options.connection, token->ca_hash);
  if (!connection) return fail(connection.error(), "enroll");
  // The key is made here and never leaves this machine: the daemon sees a CSR.
  auto key = identity::PrivateKey::generate(key_type->value_or(identity::kDefaultKeyType));
  if (!key) return fail(key.error(), "enroll");
  auto csr = identity::make_csr_pem(*key, options.device);
  if (!csr) return fail(csr.error(), "enroll");
  std::optional<std::string> wanted;
  if (!options.device.empty()) wanted = options.device;
  auto answer = call_enroll(
      *connection, runtime::encode_enroll_request(token->id + "." + token->secret, *csr, wanted));
  if (!answer) return fail(answer.error(), fmt::format("enroll at {}", options.connection.connect));
  if (answer->kind == "error" || !answer->ok) {
    const std::string name = answer->error.value_or("unknown");
    std::string why = name == "enroll_refused"
                          ? "the token is unknown, wrong, expired, used up or revoked, the device "
                            "id is taken or not the one the token names, or this address failed "
                            "too often; ask the operator for a new token"
                          : "the request was not understood";
    return fail(Error(Errc::ConnectFailed, fmt::format("the daemon refused ({}): {}", name, why)),
                "enroll");
  }
  if (answer->kind != "enrolled" || !answer->certificate || !answer->ca || !answer->device_id) {
    return fail(Error(Errc::FrameReadFailed,
                      fmt::format("the daemon answered '{}' without device_id, certificate and ca",
                                  answer->kind)),
                "enroll");
  }
  auto certificate =
      identity::Certificate::from_pem(*answer->certificate, "the issued certificate");
  if (!certificate) return fail(certificate.error(), "enroll");
  if (auto stored =
          identity::store_device_identity(dir, *answer->device_id, *key, *certificate, *answer->ca);
      !stored) {
    return fail(stored.error(), "enroll: storing the identity");
  }
  std::cout << fmt::format(
      "enrolled as device '{}' in {}\n  certificate sha256: {}\n  expires: {} (renew with `palyra "
      "cert renew --watch --state-dir {} --connect {}`)\n",
      *answer->device_id, dir.root.string(), certificate->fingerprint(),
      identity::format_utc(certificate->not_after()), dir.root.string(),
      options.connection.connect);
  return kExitOk;
}

void add_enroll_command(CLI::App& root, CommandContext& context) {
  auto options = std::make_shared<EnrollOptions>();
  CLI::App* command = root.add_subcommand(
      "enroll",
      "Join a daemon with a one-time token: generate this node's key (it never leaves the "
      "node), check that the daemon's CA is the one the token names before sending anything, "
      "and store the issued certificate and the CA in the state directory, where health, "
      "publish, events and cert renew find them");
  command->add_option("TOKEN", options->token, "the token `palyra token create` printed")
      ->required();
  command->add_option("--device", options->device,
                      "the device id to ask for (a token bound to a device id gives that one)");
  add_key_type_option(*command, options->key_type,
                      "p256; renewals keep the type (the daemon accepts both)");
  add_connection_options(*command, options->connection, Identity::Enrolling);
  command->callback([options, &context] { context.exit_code = enroll(*options); });
}

// --- palyra cert renew ---

struct RenewOptions {
  ConnectionOptions connection;
  bool watch = false;
};

void print_renewed(const identity::Certificate& certificate, const std::string& device_id) {
  std::cout << fmt::format("renewed device '{}': sha256 {}, expires {}\n", device_id,
                           certificate.fingerprint(), identity::format_utc(certificate.not_after()))
            << std::flush;
}

int renew(const RenewOptions& options) {
  auto connection = resolve(options.connection);
  if (!connection) return fail(connection.error(), "cert renew");
  if (!connection->state_dir) {
    return fail(Error(Errc::InvalidArgument,
                      "cert renew renews a device identity in a state directory; --cert/--key "
                      "files are not rewritten"),
                "cert renew");
  }
  const std::string device_id = connection->device_id;
  DeviceRenewer renewer(*connection);
  if (!options.watch) {
    auto renewed = renewer.renew_once();
    if (!renewed) return fail(renewed.error(), "cert renew");
    print_renewed(*renewed, device_id);
    return kExitOk;
  }
  install_stop_handlers();
  auto current = renewer.current();
  if (!current) return fail(current.error(), "cert renew");
  std::cout << fmt::format(
                   "watching device '{}': certificate expires {}, renewed at about 2/3 of "
                   "its lifetime\n",
                   device_id, identity::format_utc(current->not_after()))
            << std::flush;
  Status ran = renewer.run(stop_requested(), [&device_id](const identity::Certificate& c) {
    print_renewed(c, device_id);
  });
  if (!ran) return fail(ran.error(), "cert renew");
  return kExitOk;
}

void add_renew_command(CLI::App& root, CommandContext& context) {
  CLI::App* cert = root.get_subcommand("cert");
  auto options = std::make_shared<RenewOptions>();
  CLI::App* command = cert->add_subcommand(
      "renew",
      "Renew this node's device certificate with the daemon (a new key of the same type, "
      "generated here): once "
      "now, or with --watch at about 2/3 of each certificate's lifetime (±10 % jitter), retrying "
      "with backoff. Files are replaced atomically, key and certificate together.");
  command->add_flag("--watch", options->watch, "keep renewing until interrupted");
  add_connection_options(*command, options->connection);
  command->callback([options, &context] { context.exit_code = renew(*options); });
}

}  // namespace

void add_enrollment_commands(CLI::App& root, CommandContext& context) {
  add_token_commands(root, context);
  add_enroll_command(root, context);
  add_renew_command(root, context);
}

}  // namespace palyra::cli
