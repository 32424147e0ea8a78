// palyra init | ca init | cert server|device|revoke|list|fingerprint
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cluster_issuance.hpp"
#include "cluster_revocation.hpp"
#include "commands.hpp"
#include "key_type_option.hpp"
#include "nats_option.hpp"
#include "palyra/common/clock.hpp"
#include "palyra/identity/store.hpp"

namespace palyra::cli {
namespace {

using identity::IdentityStore;
using identity::StateDir;

// Options every identity command shares.
struct StateOption {
  std::string state_dir;
  StateDir resolve() const { return identity::state_dir_or_default(state_dir); }
};

void add_state_dir(CLI::App& command, StateOption& option) {
  command.add_option("--state-dir", option.state_dir,
                     "state directory (default: $PALYRA_STATE_DIR, else $XDG_STATE_HOME/palyra, "
                     "else ~/.local/state/palyra)");
}

int fail(const Error& error) {
  std::cerr << "palyra: error: " << error.describe() << "\n";
  return error.code() == Errc::InvalidDeviceId || error.code() == Errc::InvalidDuration ||
                 error.code() == Errc::InvalidArgument
             ? kExitUsage
             : kExitFailure;
}

void print_written(std::string_view what, const identity::WrittenCertificate& written) {
  std::cout << fmt::format("{}: {}\n  key: {}\n  sha256: {}\n  expires: {}\n", what,
                           written.cert.string(), written.key.string(), written.fingerprint,
                           identity::format_utc(written.not_after));
}

Result<std::chrono::seconds> duration_or(const std::string& text, std::chrono::seconds fallback) {
  if (text.empty()) return fallback;
  return identity::parse_duration(text);
}

std::string status_of(const identity::LedgerEntry& e, std::int64_t now) {
  if (e.revoked_at_unix) return "revoked";
  if (e.not_after_unix < now) return "expired";
  return "valid";
}

}  // namespace

void add_identity_commands(CLI::App& root, CommandContext& context) {
  // --- palyra init ---
  struct InitOptions {
    StateOption state;
    std::string name = "Palyra Gateway CA";
    std::string device_id = "node-1";
    std::string key_type;
    bool force = false;
  };
  auto init_options = std::make_shared<InitOptions>();
  CLI::App* init = root.add_subcommand(
      "init",
      "Create a state directory ready for palyrad: a gateway CA, a server certificate "
      "for localhost, 127.0.0.1 and ::1, and one device certificate");
  add_state_dir(*init, init_options->state);
  init->add_option("--name", init_options->name, "the CA's common name");
  init->add_option("--device-id", init_options->device_id, "the first device's id");
  add_key_type_option(*init, init_options->key_type, "p256; the CA, server and device keys");
  init->add_flag("--force", init_options->force,
                 "replace an existing CA (invalidates its certificates)");
  init->callback([init_options, &context] {
    IdentityStore store(init_options->state.resolve());
    if (auto status = identity::validate_device_id(init_options->device_id); !status) {
      context.exit_code = fail(status.error());
      return;
    }
    // One type for the CA and both keys: the leaves take the CA's type.
    auto key_type = key_type_option(init_options->key_type);
    if (!key_type) {
      context.exit_code = fail(key_type.error());
      return;
    }
    auto ca = store.create_ca(init_options->name, init_options->force,
                              key_type->value_or(identity::kDefaultKeyType));
    if (!ca) {
      context.exit_code = fail(ca.error());
      return;
    }
    auto server = store.issue_server({"localhost", {}, {"127.0.0.1", "::1"}});
    if (!server) {
      context.exit_code = fail(server.error());
      return;
    }
    auto device =
        store.issue_device(init_options->device_id, identity::kDefaultDeviceValidity, std::nullopt);
    if (!device) {
      context.exit_code = fail(device.error());
      return;
    }
    std::cout << "state directory: " << store.dir().root.string() << "\n";
    print_written("CA", *ca);
    print_written("server certificate", *server);
    print_written(fmt::format("device certificate ({})", init_options->device_id), *device);
  });

  // --- palyra ca init ---
  CLI::App* ca = root.add_subcommand("ca", "Manage the gateway certificate authority");
  ca->require_subcommand(1);
  struct CaOptions {
    StateOption state;
    std::string name;
    std::string key_type;
    bool force = false;
  };
  auto ca_options = std::make_shared<CaOptions>();
  CLI::App* ca_init = ca->add_subcommand(
      "init",
      "Create the gateway CA (10 years; ECDSA P-256, or Ed25519 with --key-type ed25519). "
      "Certificates it issues later take its key type unless told otherwise");
  add_state_dir(*ca_init, ca_options->state);
  ca_init->add_option("--name", ca_options->name, "the CA's common name")->required();
  add_key_type_option(*ca_init, ca_options->key_type, "p256");
  ca_init->add_flag("--force", ca_options->force, "replace an existing CA");
  ca_init->callback([ca_options, &context] {
    auto key_type = key_type_option(ca_options->key_type);
    if (!key_type) {
      context.exit_code = fail(key_type.error());
      return;
    }
    IdentityStore store(ca_options->state.resolve());
    auto written = store.create_ca(ca_options->name, ca_options->force,
                                   key_type->value_or(identity::kDefaultKeyType));
    if (!written) {
      context.exit_code = fail(written.error());
      return;
    }
    print_written("CA", *written);
  });

  // --- palyra ca rotate ---
  struct RotateOptions {
    StateOption state;
    std::string name = "Palyra Gateway CA";
    std::string device_validity = "24h";
    std::string key_type;
    bool status = false;
  };
  auto rotate_options = std::make_shared<RotateOptions>();
  CLI::App* rotate = ca->add_subcommand(
      "rotate",
      "Replace the gateway CA without stranding a node, in three steps run one device validity "
      "apart: (1) a new CA is added to the trust bundle every node receives when it enrolls or "
      "renews; (2) the new CA starts signing and the server certificate is reissued under it; "
      "(3) the old CA leaves the bundle. Each run does the next step and says when to run the "
      "following one");
  add_state_dir(*rotate, rotate_options->state);
  rotate->add_option("--name", rotate_options->name, "the new CA's common name (step 1)")
      ->capture_default_str();
  rotate
      ->add_option("--device-validity", rotate_options->device_validity,
                   "the daemon's enrollment.device_validity: how long to wait between steps")
      ->capture_default_str();
  add_key_type_option(*rotate, rotate_options->key_type,
                      "the current CA's (step 1; another type moves the gateway to it)");
  rotate->add_flag("--status", rotate_options->status, "only print the current stage");
  rotate->callback([rotate_options, &context] {
    IdentityStore store(rotate_options->state.resolve());
    if (rotate_options->status) {
      auto stage = store.ca_rotation_stage();
      if (!stage) {
        context.exit_code = fail(stage.error());
        return;
      }
      constexpr const char* kNames[] = {"no rotation in progress",
                                        "step 1 done: new CA trusted, old CA signing",
                                        "step 2 done: new CA signing, old CA still trusted"};
      std::cout << kNames[static_cast<int>(*stage)] << "\n";
      return;
    }
    auto validity = identity::parse_duration(rotate_options->device_validity);
    if (!validity) {
      context.exit_code = fail(validity.error());
      return;
    }
    auto key_type = key_type_option(rotate_options->key_type);
    if (!key_type) {
      context.exit_code = fail(key_type.error());
      return;
    }
    auto step = store.rotate_ca(rotate_options->name, *validity, *key_type);
    if (!step) {
      context.exit_code = fail(step.error());
      return;
    }
    std::cout << step->what_happened << "\n" << step->next_step << "\n";
  });

  // --- palyra cert ... ---
  CLI::App* cert = root.add_subcommand("cert", "Issue, revoke and inspect certificates");
  cert->require_subcommand(1);

  struct ServerOptions {
    StateOption state;
    std::string name;
    std::vector<std::string> dns;
    std::vector<std::string> ips;
    std::string valid_for;
    std::string key_type;
  };
  auto server_options = std::make_shared<ServerOptions>();
  CLI::App* server = cert->add_subcommand(
      "server",
      "Issue the daemon's certificate (SANs: DNS:localhost, the name, and any --dns/--ip)");
  add_state_dir(*server, server_options->state);
  server->add_option("--name", server_options->name, "common name, also a DNS SAN")->required();
  server->add_option("--dns", server_options->dns, "an extra DNS name (repeatable)");
  server->add_option("--ip", server_options->ips, "an IPv4 or IPv6 address (repeatable)");
  server->add_option("--valid-for", server_options->valid_for, "validity, e.g. 365d (default 1y)");
  add_key_type_option(*server, server_options->key_type, "the CA's");
  server->callback([server_options, &context] {
    auto valid_for = duration_or(server_options->valid_for, std::chrono::hours(24 * 365));
    if (!valid_for) {
      context.exit_code = fail(valid_for.error());
      return;
    }
    auto key_type = key_type_option(server_options->key_type);
    if (!key_type) {
      context.exit_code = fail(key_type.error());
      return;
    }
    IdentityStore store(server_options->state.resolve());
    auto written = store.issue_server(
        {server_options->name, server_options->dns, server_options->ips, *valid_for, *key_type});
    if (!written) {
      context.exit_code = fail(written.error());
      return;
    }
    print_written("server certificate", *written);
  });

  struct DeviceOptions {
    StateOption state;
    std::string device_id;
    std::string valid_for;
    std::string out;
    std::string key_type;
    NatsOption nats;
  };
  auto device_options = std::make_shared<DeviceOptions>();
  CLI::App* device = cert->add_subcommand(
      "device",
      "Issue a device (client) certificate: CN=Palyra Device <id>, O=Palyra, EKU clientAuth");
  add_state_dir(*device, device_options->state);
  device->add_option("device_id", device_options->device_id, "1-64 characters of A-Z a-z 0-9 . _ -")
      ->required();
  device->add_option("--valid-for", device_options->valid_for, "validity, e.g. 24h (default 24h)");
  device->add_option("--out", device_options->out,
                     "directory for device.pem/device.key "
                     "(default: <state>/devices/<id>)");
  add_key_type_option(*device, device_options->key_type, "the CA's");
  device_options->nats.add_to(
      *device,
      "record the certificate in PALYRA_LEDGER and claim its device id in PALYRA_DEVICES at "
      "once, so no other gateway enrolls another node under it (otherwise the gateway of "
      "this state directory does at its next start)");
  device->callback([device_options, &context] {
    auto valid_for = duration_or(device_options->valid_for, identity::kDefaultDeviceValidity);
    if (!valid_for) {
      context.exit_code = fail(valid_for.error());
      return;
    }
    auto key_type = key_type_option(device_options->key_type);
    if (!key_type) {
      context.exit_code = fail(key_type.error());
      return;
    }
    // The cluster first: unreachable, nothing is issued.
    std::shared_ptr<cluster::SharedState> cluster_state;
    if (device_options->nats.given()) {
      auto opened = device_options->nats.open();
      if (!opened) {
        context.exit_code = fail(opened.error());
        return;
      }
      cluster_state = std::move(*opened);
    }
    const identity::StateDir dir = device_options->state.resolve();
    IdentityStore store(dir);
    std::optional<std::filesystem::path> out;
    if (!device_options->out.empty()) out = device_options->out;
    auto written = store.issue_device(device_options->device_id, *valid_for, out, *key_type);
    if (!written) {
      context.exit_code = fail(written.error());
      return;
    }
    print_written(fmt::format("device certificate ({})", device_options->device_id), *written);
    if (!cluster_state) return;
    auto shared = share_issued_device(*cluster_state, dir, written->fingerprint,
                                      palyra::system_clock()->now());
    if (!shared) {
      context.exit_code = fail(Error(
          shared.error().code(),
          fmt::format("issued, but not in the cluster yet (the gateway of {} brings it in at its "
                      "next start): {}",
                      dir.root.string(), shared.error().message())));
      return;
    }
    std::cout << fmt::format("in the cluster: recorded in PALYRA_LEDGER, device id '{}' claimed\n",
                             device_options->device_id);
  });

  struct RevokeOptions {
    StateOption state;
    NatsOption nats;
    std::string cert_file;
    std::string fingerprint;
    std::string device_id;
  };
  auto revoke_options = std::make_shared<RevokeOptions>();
  CLI::App* revoke = cert->add_subcommand(
      "revoke",
      "Revoke certificates: add them to the revocation index (palyrad reloads it on "
      "SIGHUP or when the file changes) and mark them in the ledger; with --nats-urls, "
      "in the whole cluster");
  add_state_dir(*revoke, revoke_options->state);
  revoke_options->nats.add_to(
      *revoke,
      "find the certificates in PALYRA_LEDGER (every gateway's) and publish them to "
      "PALYRA_REVOKED, which every gateway watches; the state directory's revoked.txt and "
      "ledger.json are written too only if --state-dir is given");
  auto* by_cert = revoke->add_option("--cert", revoke_options->cert_file, "a certificate PEM file");
  auto* by_fp =
      revoke->add_option("--fingerprint", revoke_options->fingerprint, "a SHA-256 fingerprint");
  auto* by_device = revoke->add_option("--device", revoke_options->device_id,
                                       "every unrevoked certificate of a device");
  by_cert->excludes(by_fp)->excludes(by_device);
  by_fp->excludes(by_device);
  revoke->callback([revoke_options, &context] {
    std::string fingerprint = revoke_options->fingerprint;
    if (!revoke_options->cert_file.empty()) {
      auto certificate = identity::Certificate::from_pem_file(revoke_options->cert_file);
      if (!certificate) {
        context.exit_code = fail(certificate.error());
        return;
      }
      fingerprint = certificate->fingerprint();
    }
    if (fingerprint.empty() && revoke_options->device_id.empty()) {
      std::cerr << "palyra: error: give one of --cert, --fingerprint or --device\n";
      context.exit_code = kExitUsage;
      return;
    }
    Result<std::vector<identity::LedgerEntry>> revoked = std::vector<identity::LedgerEntry>{};
    if (revoke_options->nats.given()) {
      auto state = revoke_options->nats.open();
      if (!state) {
        context.exit_code = fail(state.error());
        return;
      }
      ClusterRevocation what{revoke_options->device_id, fingerprint, std::nullopt};
      // Only a state directory named on purpose is written: the command may
      // run on a host that is no gateway, where the default one means nothing.
      if (!revoke_options->state.state_dir.empty()) what.local = revoke_options->state.resolve();
      revoked = revoke_in_cluster(**state, what, palyra::system_clock()->now());
    } else {
      IdentityStore store(revoke_options->state.resolve());
      revoked = revoke_options->device_id.empty() ? store.revoke_fingerprints({fingerprint})
                                                  : store.revoke_device(revoke_options->device_id);
    }
    if (!revoked) {
      context.exit_code = fail(revoked.error());
      return;
    }
    for (const auto& e : *revoked) {
      std::cout << fmt::format("revoked {} ({})\n", e.fingerprint, e.subject);
    }
  });

  struct ListOptions {
    StateOption state;
    bool json = false;
  };
  auto list_options = std::make_shared<ListOptions>();
  CLI::App* list =
      cert->add_subcommand("list", "List every certificate the CA issued, with its status");
  add_state_dir(*list, list_options->state);
  list->add_flag("--json", list_options->json, "print a JSON array");
  list->callback([list_options, &context] {
    IdentityStore store(list_options->state.resolve());
    auto ledger = store.ledger();
    if (!ledger) {
      context.exit_code = fail(ledger.error());
      return;
    }
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    if (list_options->json) {
      nlohmann::json out = nlohmann::json::parse(ledger->to_json());
      for (auto& j : out) {
        auto it = std::find_if(ledger->entries().begin(), ledger->entries().end(),
                               [&](const auto& e) { return e.fingerprint == j["fingerprint"]; });
        j["status"] = status_of(*it, now);
      }
      std::cout << out.dump(2) << "\n";
      return;
    }
    std::cout << fmt::format("{:>4}  {:<7} {:<8} {:<20} {:<32} {}\n", "SEQ", "KIND", "STATUS",
                             "EXPIRES", "SUBJECT", "SHA256");
    for (const auto& e : ledger->entries()) {
      std::cout << fmt::format(
          "{:>4}  {:<7} {:<8} {:<20} {:<32} {}\n", e.sequence, e.kind, status_of(e, now),
          identity::format_utc(std::chrono::system_clock::from_time_t(e.not_after_unix)), e.subject,
          e.fingerprint);
    }
  });

  auto fingerprint_file = std::make_shared<std::string>();
  auto fingerprint_state = std::make_shared<StateOption>();  // accepted for uniformity; unused
  CLI::App* fingerprint = cert->add_subcommand(
      "fingerprint", "Print a certificate's SHA-256 fingerprint (the value for --pin-sha256)");
  fingerprint->add_option("file", *fingerprint_file, "a certificate PEM file")->required();
  add_state_dir(*fingerprint, *fingerprint_state);
  fingerprint->callback([fingerprint_file, fingerprint_state, &context] {
    auto certificate = identity::Certificate::from_pem_file(*fingerprint_file);
    if (!certificate) {
      context.exit_code = fail(certificate.error());
      return;
    }
    std::cout << certificate->fingerprint() << "\n";
  });
}

}  // namespace palyra::cli
