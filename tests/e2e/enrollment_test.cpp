// End to end: the node lifecycle of PROTOCOL.md §7 with the real binaries —
// tokens made on the daemon's host, nodes enrolling into their own state
// directories, renewal (once, and under a live follower), revocation, and the
// daemon's own certificate replaced while it serves.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "daemon_fixture.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/device_identity.hpp"
#include "palyra/identity/store.hpp"
#include "palyra/identity/token_store.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The last non-empty line of `text`.
std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of('\n');
  if (end == std::string::npos) return {};
  auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

std::string read_text(const std::filesystem::path& path) {
  auto text = read_file(path);
  return text ? *text : std::string();
}

class EnrollmentTest : public DaemonTest {
 protected:
  // `palyra token create` on the daemon's state directory; the token text.
  std::string create_token(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"token", "create", "--state-dir", state_.root.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto created = palyra(args, false);
    EXPECT_EQ(created.status, 0) << created.err;
    return last_line(created.out);
  }
  identity::StateDir node_dir(const std::string& name) const { return {dir_ / name}; }
  palyra::testing::CommandResult enroll(const std::string& token, const identity::StateDir& node,
                                        std::vector<std::string> extra = {},
                                        const std::filesystem::path& scratch = {}) {
    std::vector<std::string> argv = {PALYRA_CLI_BINARY, "enroll", token,
                                     "--connect",       address_, "--state-dir",
                                     node.root.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return palyra::testing::run_command(argv, scratch.empty() ? dir_ : scratch);
  }
  // A client command run from a node's state directory, with no identity option.
  palyra::testing::CommandResult from_node(const identity::StateDir& node,
                                           std::vector<std::string> args) {
    std::vector<std::string> argv = {PALYRA_CLI_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--state-dir", node.root.string(), "--connect", address_});
    return run(argv);
  }
  std::size_t ledger_devices_named(const std::string& device_id) {
    auto listed = palyra({"cert", "list", "--json", "--state-dir", state_.root.string()}, false);
    auto entries = nlohmann::json::parse(listed.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(entries.is_array()) << listed.out << listed.err;
    std::size_t count = 0;
    for (const auto& entry : entries) count += entry.value("device_id", "") == device_id ? 1 : 0;
    return count;
  }
};

TEST_F(EnrollmentTest, ANewNodeEnrollsWithATokenAndPublishesAsItsOwnDevice) {
  ASSERT_TRUE(start_daemon());
  const std::string token = create_token();
  ASSERT_EQ(std::count(token.begin(), token.end(), '.'), 2) << token;
  const auto node = node_dir("node-a");

  auto enrolled = enroll(token, node, {"--device", "sensor-7"});
  ASSERT_EQ(enrolled.status, 0) << enrolled.err;
  EXPECT_THAT(enrolled.out, HasSubstr("enrolled as device 'sensor-7'"));

  // The key was made on the node and is private to it.
  struct stat st {};
  ASSERT_EQ(::stat(node.device_key("sensor-7").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The daemon keeps only a hash of the secret.
  const std::string secret = token.substr(9, 32);
  EXPECT_THAT(read_text(state_.tokens()), Not(HasSubstr(secret)));
  EXPECT_THAT(read_text(state_.tokens()), HasSubstr(token.substr(0, 8)));

  // health, publish and events work from the node's state directory alone.
  auto health = from_node(node, {"health"});
  EXPECT_EQ(health.status, 0) << health.err;
  auto published = from_node(node, {"publish", "joined", "{\"ok\":true}"});
  ASSERT_EQ(published.status, 0) << published.err;
  auto events = from_node(node, {"events", "--json"});
  ASSERT_EQ(events.status, 0) << events.err;
  EXPECT_THAT(events.out, HasSubstr("\"device_id\":\"sensor-7\""));
  EXPECT_THAT(log(), HasSubstr("enrollment accepted"));
  EXPECT_EQ(ledger_devices_named("sensor-7"), 1u);
}

TEST_F(EnrollmentTest, AOneUseTokenEnrollsExactlyOnce) {
  ASSERT_TRUE(start_daemon());
  const std::string token = create_token();
  ASSERT_EQ(enroll(token, node_dir("first"), {"--device", "first"}).status, 0);
  auto second = enroll(token, node_dir("second"), {"--device", "second"});
  EXPECT_EQ(second.status, 1);
  EXPECT_THAT(second.err, HasSubstr("enroll_refused"));
  EXPECT_FALSE(std::filesystem::exists(node_dir("second").device_cert("second")));
  EXPECT_EQ(ledger_devices_named("second"), 0u);
  EXPECT_THAT(log(), HasSubstr("used up"));
}

TEST_F(EnrollmentTest, ExpiredRevokedAndWrongTokensAreRefusedAlike) {
  ASSERT_TRUE(start_daemon());
  // Expired on the daemon's real clock already: made two hours ago, for one.
  const std::string expired =
      identity::FileTokenStore(state_)
          .create({.ttl = 1h}, *identity::IdentityStore(state_).signing_ca_spki_sha256(),
                  std::chrono::system_clock::now() - 2h)
          ->text();
  const std::string revoked = create_token();
  ASSERT_EQ(
      palyra({"token", "revoke", revoked.substr(0, 8), "--state-dir", state_.root.string()}, false)
          .status,
      0);
  std::string wrong = create_token();
  wrong[9] = wrong[9] == 'a' ? 'b' : 'a';  // one digit of the secret
  std::string unknown = create_token();
  unknown[0] = unknown[0] == 'a' ? 'b' : 'a';  // the id

  const std::vector<std::pair<std::string, std::string>> cases = {
      {expired, "expired"}, {revoked, "revoked"}, {wrong, "wrong secret"}, {unknown, "unknown"}};
  int n = 0;
  std::set<std::string> answers;
  for (const auto& [token, reason] : cases) {
    const std::string device = "dev-" + std::to_string(n++);
    auto refused = enroll(token, node_dir(device), {"--device", device});
    EXPECT_EQ(refused.status, 1) << reason;
    // One answer for every refusal: nothing tells a guesser which part was wrong.
    answers.insert(last_line(refused.err));
    EXPECT_FALSE(std::filesystem::exists(node_dir(device).device_cert(device))) << reason;
    EXPECT_THAT(log(), HasSubstr(reason));
  }
  EXPECT_EQ(answers.size(), 1u) << *answers.begin();
  EXPECT_THAT(*answers.begin(), HasSubstr("enroll_refused"));
}

TEST_F(EnrollmentTest, ATokenForAnotherCaIsRefusedBeforeTheSecretIsSent) {
  ASSERT_TRUE(start_daemon());
  // A token minted by another daemon's CA: our daemon is not the one it names.
  const identity::StateDir other{dir_ / "other-daemon"};
  ASSERT_EQ(palyra({"init", "--state-dir", other.root.string()}, false).status, 0);
  auto created = palyra({"token", "create", "--state-dir", other.root.string()}, false);
  ASSERT_EQ(created.status, 0) << created.err;
  const std::string token = last_line(created.out);
  const std::string token_hash = token.substr(token.rfind('.') + 1);
  auto ours = identity::Certificate::from_pem_file(state_.ca_cert());
  ASSERT_TRUE(ours);

  auto refused = enroll(token, node_dir("node"), {"--device", "node"});
  EXPECT_EQ(refused.status, 1);
  // Both hashes named: the operator sees which CA the daemon has.
  EXPECT_THAT(refused.err, HasSubstr(token_hash));
  EXPECT_THAT(refused.err, HasSubstr(ours->spki_sha256()));
  // The daemon never saw the token: the handshake ended first.
  std::this_thread::sleep_for(200ms);
  EXPECT_THAT(log(), Not(HasSubstr(token.substr(0, 8))));
  EXPECT_THAT(log(), Not(HasSubstr(token.substr(9, 32))));
  EXPECT_THAT(log(), Not(HasSubstr("enrollment")));
  EXPECT_FALSE(std::filesystem::exists(state_.tokens()));
}

TEST_F(EnrollmentTest, ATakenDeviceIdIsRefusedUnlessTheTokenNamesItAndTheTokenKeepsItsUse) {
  ASSERT_TRUE(start_daemon());
  // node-1 exists (palyra init issued it) and is valid.
  const std::string token = create_token();
  auto taken = enroll(token, node_dir("impostor"), {"--device", "node-1"});
  EXPECT_EQ(taken.status, 1);
  EXPECT_THAT(taken.err, HasSubstr("enroll_refused"));
  EXPECT_THAT(log(), HasSubstr("belongs to a device with a valid certificate"));
  // Same token, free id: the refusal did not use it up.
  ASSERT_EQ(enroll(token, node_dir("honest"), {"--device", "node-2"}).status, 0);
  // A token bound to node-1 may re-enroll it (the operator said so), and
  // gives that id whatever the node asks for.
  auto rebound = enroll(create_token({"--device", "node-1"}), node_dir("replacement"));
  ASSERT_EQ(rebound.status, 0) << rebound.err;
  EXPECT_THAT(rebound.out, HasSubstr("enrolled as device 'node-1'"));
  auto other =
      enroll(create_token({"--device", "node-3"}), node_dir("asks-other"), {"--device", "node-4"});
  EXPECT_EQ(other.status, 1);
}

TEST_F(EnrollmentTest, ConcurrentEnrollmentsWithAOneUseTokenHaveOneWinner) {
  ASSERT_TRUE(start_daemon());
  const std::string token = create_token();
  constexpr int kRacers = 4;
  std::vector<std::future<palyra::testing::CommandResult>> racers;
  for (int i = 0; i < kRacers; ++i) {
    const std::string device = "racer-" + std::to_string(i);
    const auto scratch = dir_ / ("scratch-" + device);
    std::filesystem::create_directories(scratch);
    racers.push_back(std::async(std::launch::async, [this, token, device, scratch] {
      return enroll(token, node_dir(device), {"--device", device}, scratch);
    }));
  }
  int winners = 0;
  for (auto& racer : racers) {
    auto result = racer.get();
    if (result.status == 0) {
      ++winners;
    } else {
      EXPECT_THAT(result.err, HasSubstr("enroll_refused"));
    }
  }
  EXPECT_EQ(winners, 1);
  std::size_t issued = 0;
  for (int i = 0; i < kRacers; ++i) issued += ledger_devices_named("racer-" + std::to_string(i));
  EXPECT_EQ(issued, 1u);
}

TEST_F(EnrollmentTest, AnAddressThatFailsFiveTimesIsRefusedForAWhile) {
  ASSERT_TRUE(start_daemon());
  std::string wrong = create_token();
  wrong[9] = wrong[9] == 'a' ? 'b' : 'a';
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(enroll(wrong, node_dir("guess"), {"--device", "guess"}).status, 1);
  }
  // Even the right token is refused now, without being used up.
  const std::string good = create_token();
  auto locked = enroll(good, node_dir("late"), {"--device", "late"});
  EXPECT_EQ(locked.status, 1);
  EXPECT_THAT(locked.err, HasSubstr("enroll_refused"));
  EXPECT_THAT(log(), HasSubstr("too many failed attempts"));
  auto listed = palyra({"token", "list", "--json", "--state-dir", state_.root.string()}, false);
  EXPECT_THAT(listed.out, HasSubstr("\"id\":\"" + good.substr(0, 8) + "\",\"state\":\"active\""));
}

TEST_F(EnrollmentTest, EnrollmentAlpnServesOnlyNodeEnrollAndTheNodeAlpnNeverServesIt) {
  ASSERT_TRUE(start_daemon());
  auto ca = identity::Certificate::from_pem_file(state_.ca_cert());
  ASSERT_TRUE(ca);
  transport::ClientTlsConfig tls;
  tls.alpn = transport::kEnrollAlpn;
  tls.ca_spki_sha256 = ca->spki_sha256();
  tls.server_name = "127.0.0.1";
  auto enrolling = connect(tls);  // no certificate, and none asked for
  ASSERT_TRUE(enrolling) << enrolling.error().describe();
  const std::string unsupported = runtime::encode_error(runtime::ProtocolError::UnsupportedMethod);
  EXPECT_EQ(call(**enrolling, runtime::encode_health_request()),
            std::vector<std::string>{unsupported});
  EXPECT_EQ(call(**enrolling, runtime::encode_publish_request("x", "1")),
            std::vector<std::string>{unsupported});
  EXPECT_EQ(call(**enrolling, runtime::encode_renew_request("csr")),
            std::vector<std::string>{unsupported});
  // A bad CSR is invalid_params, and uses nothing up.
  EXPECT_EQ(
      call(**enrolling, runtime::encode_enroll_request("0123abcd.00112233445566778899aabbccddeeff",
                                                       "not a csr", std::string("x"))),
      std::vector<std::string>{runtime::encode_error(runtime::ProtocolError::InvalidParams)});

  auto device = connect_device();
  ASSERT_TRUE(device);
  EXPECT_EQ(call(*device, runtime::encode_enroll_request(
                              "0123abcd.00112233445566778899aabbccddeeff", "csr", std::nullopt)),
            std::vector<std::string>{unsupported});
}

TEST_F(EnrollmentTest, ARevokedDeviceCannotRenew) {
  ASSERT_TRUE(start_daemon());
  const auto node = node_dir("node");
  ASSERT_EQ(enroll(create_token(), node, {"--device", "doomed"}).status, 0);
  auto renewed = from_node(node, {"cert", "renew"});
  ASSERT_EQ(renewed.status, 0) << renewed.err;
  EXPECT_THAT(renewed.out, HasSubstr("renewed device 'doomed'"));
  EXPECT_EQ(ledger_devices_named("doomed"), 2u);

  ASSERT_EQ(
      palyra({"cert", "revoke", "--device", "doomed", "--state-dir", state_.root.string()}, false)
          .status,
      0);
  std::this_thread::sleep_for(1500ms);  // the daemon notices revoked.txt changed
  auto refused = from_node(node, {"cert", "renew"});
  EXPECT_EQ(refused.status, 1);
  EXPECT_THAT(refused.err, HasSubstr("certificate_revoked"));
  EXPECT_EQ(ledger_devices_named("doomed"), 2u);
}

TEST_F(EnrollmentTest, AnExpiredCertificateCannotRenewAndTheNodeIsToldHowToRecover) {
  ASSERT_TRUE(start_daemon());
  const auto node = node_dir("node");
  ASSERT_EQ(enroll(create_token(), node, {"--device", "sleepy"}).status, 0);
  // Replaced by a certificate for a past hour: expired on the real clock.
  auto ca = identity::CertificateAuthority::load(state_.ca_cert(), state_.ca_key());
  ASSERT_TRUE(ca);
  const auto now = std::chrono::system_clock::now();
  auto past = ca->issue({.common_name = "Palyra Device sleepy",
                         .purposes = {identity::KeyPurpose::ClientAuth},
                         .not_before = now - 2h,
                         .not_after = now - 1h});
  ASSERT_TRUE(past);
  ASSERT_TRUE(identity::store_device_identity(node, "sleepy", past->key, past->certificate,
                                              ca->certificate().pem()));
  auto refused = from_node(node, {"cert", "renew"});
  EXPECT_EQ(refused.status, 1);
  EXPECT_THAT(refused.err, HasSubstr("expired"));
  EXPECT_THAT(refused.err, HasSubstr("palyra token create --device sleepy"));
  EXPECT_EQ(ledger_devices_named("sleepy"), 1u);  // the past one was not recorded
}

// The issue's figure: a 20-second certificate, a follower running for a
// minute across several renewals, every event printed exactly once, in order.
TEST_F(EnrollmentTest, AFollowerRenewsItsCertificateAndMissesNoEvent) {
  ASSERT_TRUE(start_daemon({"--device-validity", "20s"}));
  const auto node = node_dir("node");
  ASSERT_EQ(enroll(create_token(), node, {"--device", "follower"}).status, 0);
  const auto first_fingerprint =
      identity::Certificate::from_pem_file(node.device_cert("follower"))->fingerprint();

  palyra::testing::ChildProcess follower({PALYRA_CLI_BINARY, "events", "--follow", "--json",
                                          "--state-dir", node.root.string(), "--connect", address_},
                                         dir_ / "follower.stderr");
  const auto until = std::chrono::steady_clock::now() + 60s;
  std::uint64_t published = 0;
  std::vector<std::uint64_t> seen;
  std::set<std::string> fingerprints{first_fingerprint};
  while (std::chrono::steady_clock::now() < until) {
    auto sent = palyra({"publish", "tick", std::to_string(published + 1), "--device", "node-1"});
    ASSERT_EQ(sent.status, 0) << sent.err;
    ++published;
    for (std::string line = follower.read_line(500ms); !line.empty();
         line = follower.read_line(10ms)) {
      auto r = runtime::parse_response(line);
      if (r && r->seq) seen.push_back(*r->seq);
    }
    auto current = identity::Certificate::from_pem_file(node.device_cert("follower"));
    if (current) fingerprints.insert(current->fingerprint());
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (seen.size() < published && std::chrono::steady_clock::now() < deadline) {
    std::string line = follower.read_line(500ms);
    auto r = runtime::parse_response(line);
    if (r && r->seq) seen.push_back(*r->seq);
  }
  follower.signal(SIGTERM);
  EXPECT_EQ(follower.wait(5s), 0);

  std::vector<std::uint64_t> expected;
  for (std::uint64_t s = 1; s <= published; ++s) expected.push_back(s);
  EXPECT_EQ(seen, expected);  // each once, in order, none missing
  // 60 s of a 20 s certificate renewed at 2/3 of its life (±10 %): about
  // four renewals — at least two, and no storm.
  EXPECT_GE(fingerprints.size(), 3u);
  EXPECT_LE(fingerprints.size(), 7u);
  const std::string stderr_text = read_text(dir_ / "follower.stderr");
  EXPECT_THAT(stderr_text, HasSubstr("certificate renewed; reconnecting with it"));
  EXPECT_THAT(log(), HasSubstr("renewal accepted"));
}

TEST_F(EnrollmentTest, AReplacedServerCertificateServesNewHandshakesWhileAFollowerStays) {
  ASSERT_TRUE(start_daemon());
  const auto before = identity::Certificate::from_pem_file(state_.server_cert());
  ASSERT_TRUE(before);
  palyra::testing::ChildProcess follower(
      {PALYRA_CLI_BINARY, "events", "--follow", "--json", "--state-dir", state_.root.string(),
       "--connect", address_},
      dir_ / "follower.stderr");
  ASSERT_EQ(palyra({"publish", "before", "1"}).status, 0);
  EXPECT_THAT(follower.read_line(5s), HasSubstr("\"name\":\"before\""));

  auto reissued = palyra({"cert", "server", "--name", "localhost", "--ip", "127.0.0.1",
                          "--state-dir", state_.root.string()},
                         false);
  ASSERT_EQ(reissued.status, 0) << reissued.err;
  const auto after = identity::Certificate::from_pem_file(state_.server_cert());
  ASSERT_TRUE(after);
  ASSERT_NE(before->fingerprint(), after->fingerprint());
  daemon_->signal(SIGHUP);
  std::this_thread::sleep_for(300ms);

  // New handshakes see the new certificate (the pin proves which one).
  auto pinned_new = palyra({"health", "--pin-sha256", after->fingerprint()});
  EXPECT_EQ(pinned_new.status, 0) << pinned_new.err;
  auto pinned_old = palyra({"health", "--pin-sha256", before->fingerprint()});
  EXPECT_EQ(pinned_old.status, 1);
  // The follower kept its connection: it gets the next event without reconnecting.
  ASSERT_EQ(palyra({"publish", "after", "2"}).status, 0);
  EXPECT_THAT(follower.read_line(5s), HasSubstr("\"name\":\"after\""));
  follower.signal(SIGTERM);
  EXPECT_EQ(follower.wait(5s), 0);
  EXPECT_THAT(read_text(dir_ / "follower.stderr"), Not(HasSubstr("reconnecting")));
  EXPECT_THAT(log(), HasSubstr("server certificate reloaded (SIGHUP)"));
}

TEST_F(EnrollmentTest, CertRenewWatchRenewsAtTwoThirdsOfEachLifetime) {
  ASSERT_TRUE(start_daemon({"--device-validity", "6s"}));
  const auto node = node_dir("node");
  ASSERT_EQ(enroll(create_token(), node, {"--device", "watcher"}).status, 0);
  palyra::testing::ChildProcess watcher({PALYRA_CLI_BINARY, "cert", "renew", "--watch",
                                         "--state-dir", node.root.string(), "--connect", address_},
                                        dir_ / "watcher.stderr");
  EXPECT_THAT(watcher.read_line(5s), HasSubstr("watching device 'watcher'"));
  // 6 s certificates (plus the 60 s backdating) renewed at ~2/3 of their life.
  std::set<std::string> renewals;
  const auto started = std::chrono::steady_clock::now();
  const auto until = started + 60s;
  while (renewals.size() < 2 && std::chrono::steady_clock::now() < until) {
    std::string line = watcher.read_line(1s);
    if (line.find("renewed device 'watcher'") != std::string::npos) renewals.insert(line);
  }
  const auto took = std::chrono::steady_clock::now() - started;
  watcher.signal(SIGTERM);
  EXPECT_EQ(watcher.wait(5s), 0);
  EXPECT_EQ(renewals.size(), 2u) << read_text(dir_ / "watcher.stderr");
  // Each 6 s certificate lives about 4 s (2/3 ± 10 %, in whole seconds as
  // X.509 keeps them) before renewal: two renewals take several seconds,
  // where a renewal storm does both at once.
  EXPECT_GE(took, 3s);
  EXPECT_EQ(from_node(node, {"health"}).status, 0);
}

std::size_t certificates_in(const std::filesystem::path& pem) {
  auto chain = identity::Certificate::chain_from_pem_file(pem);
  return chain ? chain->size() : 0;
}

TEST_F(EnrollmentTest, TheCaRotatesInThreeStepsWithoutStrandingANode) {
  ASSERT_TRUE(start_daemon());
  const auto node = node_dir("node");
  ASSERT_EQ(enroll(create_token(), node, {"--device", "survivor"}).status, 0);
  const auto old_ca = identity::Certificate::from_pem_file(state_.ca_cert());
  ASSERT_TRUE(old_ca);
  auto rotate = [&] {
    auto step = palyra({"ca", "rotate", "--state-dir", state_.root.string()}, false);
    EXPECT_EQ(step.status, 0) << step.err;
    std::this_thread::sleep_for(1500ms);  // the daemon notices the changed files
    return step.out;
  };

  // Step 1: the new CA is trusted; the node learns it at its next renewal.
  rotate();
  EXPECT_EQ(certificates_in(state_.ca_cert()), 2u);
  ASSERT_EQ(from_node(node, {"cert", "renew"}).status, 0);
  EXPECT_EQ(certificates_in(node.ca_cert()), 2u);
  EXPECT_EQ(from_node(node, {"health"}).status, 0);

  // Step 2: the new CA signs, the server certificate is reissued under it.
  rotate();
  auto signing = identity::Certificate::from_pem_file(state_.ca_cert());
  ASSERT_TRUE(signing);
  EXPECT_NE(signing->fingerprint(), old_ca->fingerprint());
  EXPECT_THAT(log(), HasSubstr("server certificate reloaded (certificate files changed)"));
  auto health = from_node(node, {"health"});  // an old-CA certificate, the new server chain
  EXPECT_EQ(health.status, 0) << health.err;
  ASSERT_EQ(from_node(node, {"cert", "renew"}).status, 0);  // now under the new CA
  // A token made now names the new CA, and works.
  EXPECT_EQ(enroll(create_token(), node_dir("late"), {"--device", "late"}).status, 0);

  // Step 3: the old CA leaves the bundle; what it signed is no longer accepted.
  rotate();
  EXPECT_EQ(certificates_in(state_.ca_cert()), 1u);
  health = from_node(node, {"health"});
  EXPECT_EQ(health.status, 0) << health.err;
  auto stale = palyra({"health", "--device", "node-1"});  // issued by `palyra init`, old CA
  EXPECT_EQ(stale.status, 1);
}

}  // namespace
}  // namespace palyra::e2e
