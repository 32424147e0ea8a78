// End to end: a real palyrad, the real palyra CLI, raw frames for every case
// of PROTOCOL.md §4, restarts, kill -9, revocation, the connection cap and
// the configuration errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::e2e {
namespace {

using runtime::ProtocolError;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string error_frame(ProtocolError e) {
  return runtime::encode_error(e);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<std::uint64_t> seqs_of(const std::vector<std::string>& frames) {
  std::vector<std::uint64_t> seqs;
  for (const auto& f : frames) {
    auto r = runtime::parse_response(f);
    if (r && r->seq) seqs.push_back(*r->seq);
  }
  return seqs;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (auto s = first; s <= last; ++s) out.push_back(s);
  return out;
}

TEST_F(DaemonTest, EveryMethodAndErrorOfTheProtocolOnOneConnection) {
  ASSERT_TRUE(start_daemon());
  auto client = connect_device();
  ASSERT_TRUE(client);
  // A follower on its own stream must not be disturbed by the bad requests.
  auto follower = client->open_stream();
  ASSERT_TRUE(follower);
  ASSERT_TRUE((*follower)->write_frame(runtime::encode_stream_events_request(std::nullopt, true)));
  (*follower)->finish();

  EXPECT_EQ(call(*client, runtime::encode_health_request()),
            std::vector<std::string>{runtime::encode_health(true)});
  struct Case {
    const char* request;
    ProtocolError expected;
  } cases[] = {
      {R"({"protocol_version":1,)", ProtocolError::InvalidRequest},
      {R"([1,2])", ProtocolError::InvalidRequest},
      {R"({"protocol_version":1,"method":"node.health","extra":1})", ProtocolError::InvalidRequest},
      {R"({"method":"node.health"})", ProtocolError::InvalidRequest},
      {R"({"protocol_version":"1","method":"node.health"})", ProtocolError::InvalidRequest},
      {R"({"protocol_version":1,"method":"node.health","method":"node.health"})",
       ProtocolError::InvalidRequest},
      {R"({"protocol_version":1,"method":"node.stream_events","resume_from":-1})",
       ProtocolError::InvalidRequest},
      {R"({"protocol_version":2,"method":"node.health"})", ProtocolError::ProtocolMismatch},
      {R"({"protocol_version":1,"method":"node.reboot"})", ProtocolError::UnsupportedMethod},
      {R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"","payload":1}})",
       ProtocolError::InvalidParams},
      {R"({"protocol_version":1,"method":"node.publish_event","params":{"payload":1}})",
       ProtocolError::InvalidParams},
      {R"({"protocol_version":1,"method":"node.stream_events","params":{"follow":"yes"}})",
       ProtocolError::InvalidParams},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(call(*client, c.request), std::vector<std::string>{error_frame(c.expected)})
        << c.request;
  }
  const std::string long_name(129, 'n');
  EXPECT_EQ(call(*client, runtime::encode_publish_request(long_name, "1")),
            std::vector<std::string>{error_frame(ProtocolError::InvalidParams)});

  // A stream finished without any request frame: stream_failure.
  auto empty = client->open_stream();
  ASSERT_TRUE(empty);
  (*empty)->finish();
  auto failure = client->read_frame(**empty, 10s);
  ASSERT_TRUE(failure && failure->has_value());
  EXPECT_EQ(**failure, error_frame(ProtocolError::StreamFailure));

  // Publish, attributed to the certificate's device id, answered with its seq.
  EXPECT_EQ(call(*client, runtime::encode_publish_request("door.open", R"({"floor":3})")),
            std::vector<std::string>{runtime::encode_published(1)});
  auto events = call(*client, runtime::encode_stream_events_request(std::nullopt, false));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_THAT(events[0], StartsWith(R"({"protocol_version":1,"kind":"event","ok":true,"seq":1,)"
                                    R"("event":{"name":"door.open","payload":{"floor":3},)"
                                    R"("device_id":"node-1","published_at_unix_ms":)"));

  // The follower saw that event, after all those errors on the same connection.
  auto followed = client->read_frame(**follower, 10s);
  ASSERT_TRUE(followed && followed->has_value())
      << (followed ? "FIN" : followed.error().describe());
  EXPECT_EQ(**followed, events[0]);
  EXPECT_EQ(call(*client, runtime::encode_health_request()),
            std::vector<std::string>{runtime::encode_health(true)});
}

TEST_F(DaemonTest, CliPublishesStreamsAndResumesExactlyAfterTheGivenSeq) {
  ASSERT_TRUE(start_daemon());
  auto health = palyra({"health"});
  EXPECT_EQ(health.status, 0) << health.err;
  EXPECT_THAT(health.out, HasSubstr("mutual TLS required"));
  for (int i = 1; i <= 5; ++i) {
    auto published = palyra({"publish", "sensor.reading", std::to_string(i * 10)});
    ASSERT_EQ(published.status, 0) << published.err;
    EXPECT_EQ(published.out, "published seq=" + std::to_string(i) + "\n");
  }
  auto all = palyra({"events", "--json"});
  ASSERT_EQ(all.status, 0) << all.err;
  EXPECT_EQ(seqs_of(lines_of(all.out)), range(1, 5));
  auto resumed = palyra({"events", "--json", "--resume-from", "3"});
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_EQ(seqs_of(lines_of(resumed.out)), range(4, 5));
  auto human = palyra({"events", "--resume-from", "4"});
  EXPECT_EQ(human.status, 0) << human.err;
  EXPECT_THAT(human.out, StartsWith("seq=5 name=sensor.reading device_id=node-1 at="));
  EXPECT_THAT(human.out, HasSubstr("payload=50\n"));
  auto nothing_new = palyra({"events", "--resume-from", "5"});
  EXPECT_EQ(nothing_new.status, 0);
  EXPECT_EQ(nothing_new.out, "");

  auto bad_payload = palyra({"publish", "x", "{not json"});
  EXPECT_EQ(bad_payload.status, 2);
  EXPECT_THAT(bad_payload.err, HasSubstr("not valid JSON"));
}

TEST_F(DaemonTest, FollowDeliversEventsPublishedAfterItStarted) {
  ASSERT_TRUE(start_daemon());
  auto follower = connect_device();
  auto stream = follower->open_stream();
  ASSERT_TRUE(stream);
  ASSERT_TRUE((*stream)->write_frame(runtime::encode_stream_events_request(std::nullopt, true)));
  (*stream)->finish();
  auto nothing = follower->read_frame(**stream, 300ms);
  ASSERT_FALSE(nothing);  // no events yet: the stream stays open and silent
  EXPECT_EQ(nothing.error().code(), Errc::Timeout);

  auto publisher = connect_device();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(call(*publisher, runtime::encode_publish_request("tick", std::to_string(i))).size(),
              1u);
  }
  std::vector<std::string> received;
  for (int i = 0; i < 3; ++i) {
    auto frame = follower->read_frame(**stream, 10s);
    ASSERT_TRUE(frame && frame->has_value());
    received.push_back(**frame);
  }
  EXPECT_EQ(seqs_of(received), range(1, 3));
}

TEST_F(DaemonTest, RetentionMakesAnOldResumePointAResumeGap) {
  ASSERT_TRUE(start_daemon({}, {{"PALYRA_JOURNAL_RETENTION_MAX_EVENTS", "3"}}));
  auto client = connect_device();
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(call(*client, runtime::encode_publish_request("e", "null")).size(), 1u);
  }
  // Retention runs on the writer thread just after each commit (so just
  // after the publish was acknowledged): events 1..3 are gone soon.
  const std::vector<std::string> expected{runtime::encode_error(ProtocolError::ResumeGap, 4)};
  std::vector<std::string> frames;
  for (int attempt = 0; attempt < 100 && frames != expected; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(20ms);
    frames = call(*client, runtime::encode_stream_events_request(std::nullopt, false));
  }
  EXPECT_EQ(frames, expected);
  EXPECT_EQ(seqs_of(call(*client, runtime::encode_stream_events_request(3, false))), range(4, 6));
  auto cli = palyra({"events", "--resume-from", "1"});
  EXPECT_EQ(cli.status, 1);
  EXPECT_THAT(cli.err, HasSubstr("oldest it has is seq 4"));
}

TEST_F(DaemonTest, ConnectionCapRefusesTheNextAndKeepsTheOthers) {
  ASSERT_TRUE(start_daemon({"--max-connections", "2"}));
  auto first = connect_device();
  auto second = connect_device();
  ASSERT_TRUE(first && second);
  auto third = connect(device_tls());
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code(), Errc::ConnectFailed) << third.error().describe();
  EXPECT_THAT(third.error().message(), HasSubstr("CONNECTION_REFUSED (0x2)"));
  const std::vector<std::string> healthy{runtime::encode_health(true)};
  EXPECT_EQ(call(*first, runtime::encode_health_request()), healthy);
  EXPECT_EQ(call(*second, runtime::encode_health_request()), healthy);
}

TEST_F(DaemonTest, RestartLosesNothingAcknowledged) {
  ASSERT_TRUE(start_daemon());
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(palyra({"publish", "before", std::to_string(i)}).status, 0);
  EXPECT_EQ(stop_daemon(SIGTERM), 0);
  EXPECT_THAT(log(), HasSubstr("stopped"));
  ASSERT_TRUE(start_daemon());
  auto all = palyra({"events", "--json"});
  EXPECT_EQ(all.status, 0) << all.err;
  EXPECT_EQ(seqs_of(lines_of(all.out)), range(1, 10));
  EXPECT_EQ(palyra({"publish", "after"}).out, "published seq=11\n");
}

// Publishes in a burst (32 in flight on one connection) and kill -9 the
// daemon midway: every seq it acknowledged must be there after a restart,
// in order, with no gap.
TEST_F(DaemonTest, KillNineDuringAPublishBurstLosesNothingAcknowledged) {
  ASSERT_TRUE(start_daemon());
  auto client = connect_device();
  std::set<std::uint64_t> acknowledged;
  bool killed = false;
  for (int round = 0; round < 200 && !killed; ++round) {
    std::vector<transport::Stream*> streams;
    for (int i = 0; i < 32; ++i) {
      auto stream = client->open_stream(5s);
      if (!stream) break;
      (void)(*stream)->write_frame(runtime::encode_publish_request("burst", std::to_string(i)));
      (*stream)->finish();
      streams.push_back(*stream);
    }
    for (auto* stream : streams) {
      auto frame = client->read_frame(*stream, 5s);
      if (!frame || !frame->has_value()) break;
      auto response = runtime::parse_response(**frame);
      if (response && response->kind == "published") acknowledged.insert(*response->seq);
      if (acknowledged.size() == 300 && !killed) {
        daemon_->signal(SIGKILL);  // the other 31 requests of this round are in flight
        killed = true;
      }
    }
  }
  ASSERT_TRUE(killed);
  daemon_->wait(5s);
  daemon_.reset();
  client.reset();

  ASSERT_TRUE(start_daemon());
  auto reader = connect_device();
  auto stored = seqs_of(call(*reader, runtime::encode_stream_events_request(std::nullopt, false)));
  ASSERT_FALSE(stored.empty());
  EXPECT_EQ(stored, range(1, stored.back())) << "gap or disorder after kill -9";
  for (auto seq : acknowledged) {
    ASSERT_LE(seq, stored.back()) << "acknowledged seq " << seq << " lost";
  }
}

TEST_F(DaemonTest, RevokeAndSighupCloseTheLiveConnectionAndRefuseTheNext) {
  ASSERT_EQ(palyra({"cert", "device", "--state-dir", state_.root.string(), "node-2"}, false).status,
            0);
  ASSERT_TRUE(start_daemon());
  auto victim = connect_device("node-2");
  auto bystander = connect_device("node-1");
  ASSERT_TRUE(victim && bystander);
  auto revoke =
      palyra({"cert", "revoke", "--state-dir", state_.root.string(), "--device", "node-2"}, false);
  ASSERT_EQ(revoke.status, 0) << revoke.err;
  daemon_->signal(SIGHUP);
  auto closed = victim->run_until([] { return false; }, 5s);
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().code(), Errc::ConnectionClosed) << closed.error().describe();
  EXPECT_THAT(closed.error().message(), HasSubstr("0x11"));
  auto again = connect(device_tls("node-2"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::ConnectFailed) << again.error().describe();
  EXPECT_THAT(again.error().message(), HasSubstr("certificate_revoked (0x12c)"));
  EXPECT_EQ(call(*bystander, runtime::encode_health_request()),
            std::vector<std::string>{runtime::encode_health(true)});
  EXPECT_THAT(log(), HasSubstr("revocation index reloaded (SIGHUP)"));
}

TEST_F(DaemonTest, RevocationFileChangeIsPickedUpWithoutASignal) {
  ASSERT_TRUE(start_daemon());
  auto victim = connect_device();
  ASSERT_TRUE(victim);
  ASSERT_EQ(
      palyra({"cert", "revoke", "--state-dir", state_.root.string(), "--device", "node-1"}, false)
          .status,
      0);
  auto closed = victim->run_until([] { return false; }, 5s);
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().code(), Errc::ConnectionClosed) << closed.error().describe();
  EXPECT_THAT(closed.error().message(), HasSubstr("0x11"));
}

TEST_F(DaemonTest, ShutdownClosesWithTheShuttingDownCodeAndExitsZero) {
  ASSERT_TRUE(start_daemon());
  auto client = connect_device();
  ASSERT_TRUE(client);
  daemon_->signal(SIGTERM);
  auto closed = client->run_until([] { return false; }, 5s);
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().code(), Errc::ConnectionClosed) << closed.error().describe();
  EXPECT_THAT(closed.error().message(), HasSubstr("0x10"));
  EXPECT_EQ(daemon_->wait(10s), 0);
}

TEST_F(DaemonTest, FollowingCliSurvivesADaemonRestartWithEveryEventOnce) {
  ASSERT_TRUE(start_daemon());
  ASSERT_EQ(palyra({"publish", "one"}).status, 0);
  const auto cursor = dir_ / "cursor";
  palyra::testing::ChildProcess follower(
      {PALYRA_CLI_BINARY, "events", "--follow", "--cursor", cursor.string(), "--state-dir",
       state_.root.string(), "--connect", address_, "--timeout", "2000"},
      dir_ / "follower.stderr");
  EXPECT_THAT(follower.read_line(10s), StartsWith("seq=1 name=one"));
  ASSERT_EQ(palyra({"publish", "two"}).status, 0);
  EXPECT_THAT(follower.read_line(10s), StartsWith("seq=2 name=two"));
  EXPECT_EQ(stop_daemon(), 0);
  ASSERT_TRUE(start_daemon());  // same port
  ASSERT_EQ(palyra({"publish", "three"}).status, 0);
  EXPECT_THAT(follower.read_line(15s), StartsWith("seq=3 name=three"));
  follower.signal(SIGINT);
  EXPECT_EQ(follower.wait(5s), 0);
  EXPECT_EQ(follower.read_rest(), "");  // nothing printed twice
  std::ifstream saved(cursor);
  std::string value;
  saved >> value;
  EXPECT_EQ(value, "3");
  // A new follower with the cursor starts after 3.
  ASSERT_EQ(palyra({"publish", "four"}).status, 0);
  auto next = palyra({"events", "--cursor", cursor.string()});
  EXPECT_THAT(next.out, StartsWith("seq=4 name=four"));
  EXPECT_EQ(lines_of(next.out).size(), 1u);
}

// kill -9: no CONNECTION_CLOSE reaches the follower. The restarted daemon
// (same state directory, so the same QUIC secret) answers the follower's
// next packet with a Stateless Reset, and the follower reconnects at once
// instead of at its 30 s idle timeout, with every event exactly once.
TEST_F(DaemonTest, FollowerResumesPromptlyAfterKillNineThroughAStatelessReset) {
  ASSERT_TRUE(start_daemon());
  ASSERT_EQ(palyra({"publish", "one"}).status, 0);
  const auto cursor = dir_ / "cursor";
  palyra::testing::ChildProcess follower(
      {PALYRA_CLI_BINARY, "events", "--follow", "--cursor", cursor.string(), "--state-dir",
       state_.root.string(), "--connect", address_},
      dir_ / "follower.stderr");
  EXPECT_THAT(follower.read_line(10s), StartsWith("seq=1 name=one"));
  daemon_->signal(SIGKILL);
  daemon_->wait(5s);
  daemon_.reset();
  ASSERT_TRUE(start_daemon());  // same port, same state directory
  ASSERT_EQ(palyra({"publish", "two"}).status, 0);
  // Well inside the 30 s idle timeout the follower would otherwise wait for.
  EXPECT_THAT(follower.read_line(10s), StartsWith("seq=2 name=two"));
  follower.signal(SIGINT);
  EXPECT_EQ(follower.wait(5s), 0);
  EXPECT_EQ(follower.read_rest(), "");  // nothing printed twice
  auto stderr_text =
      palyra::testing::run_command({"/bin/cat", (dir_ / "follower.stderr").string()}, dir_);
  EXPECT_THAT(stderr_text.out, HasSubstr("stateless reset"));
}

// The QUIC secret is made at the first start (0600) and refused, in one
// line, once it is open to others.
TEST_F(DaemonTest, QuicSecretIsPrivateAndATooOpenOneIsRefused) {
  ASSERT_TRUE(start_daemon());
  EXPECT_EQ(stop_daemon(), 0);
  struct stat st {};
  ASSERT_EQ(::stat(state_.server_secret().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::chmod(state_.server_secret().c_str(), 0644), 0);
  auto refused = run({PALYRAD_BINARY, "--state-dir", state_.root.string(), "--quic-port", "0"});
  EXPECT_EQ(refused.status, 1);
  EXPECT_THAT(refused.err, HasSubstr("chmod 600"));
  EXPECT_EQ(lines_of(refused.err).size(), 1u) << refused.err;
}

TEST_F(DaemonTest, InvalidConfigurationIsRefusedNamingTheKeyAndSource) {
  auto bad_port =
      run({PALYRAD_BINARY, "--state-dir", state_.root.string(), "--quic-port", "70000"});
  EXPECT_EQ(bad_port.status, 2);
  EXPECT_THAT(bad_port.err, HasSubstr("--quic-port"));
  EXPECT_THAT(bad_port.err, HasSubstr("70000"));

  auto bad_env = palyra::testing::run_command({PALYRAD_BINARY, "--state-dir", state_.root.string()},
                                              dir_, {{"PALYRA_GATEWAY_QUIC_ENABLED", "maybe"}});
  EXPECT_EQ(bad_env.status, 2);
  EXPECT_THAT(bad_env.err, HasSubstr("PALYRA_GATEWAY_QUIC_ENABLED"));

  std::ofstream(dir_ / "palyrad.toml") << "[gateway]\nquic_prot = 7444\n";
  auto bad_file = run({PALYRAD_BINARY, "--config", (dir_ / "palyrad.toml").string(), "--state-dir",
                       state_.root.string()});
  EXPECT_EQ(bad_file.status, 2);
  EXPECT_THAT(bad_file.err, HasSubstr("quic_prot"));

  auto no_ca = run({PALYRAD_BINARY, "--state-dir", (dir_ / "empty").string(), "--quic-port", "0"});
  EXPECT_EQ(no_ca.status, 1);
  EXPECT_THAT(no_ca.err, HasSubstr("palyra init"));
}

TEST_F(DaemonTest, InsecureModeIsExplicitAndReported) {
  ASSERT_TRUE(start_daemon({"--require-client-auth", "false"}));
  EXPECT_THAT(log(), HasSubstr("INSECURE"));
  auto health = palyra({"health", "--anonymous", "--json"});
  EXPECT_EQ(health.status, 0) << health.err;
  EXPECT_EQ(health.out, runtime::encode_health(false) + "\n");
}

TEST_F(DaemonTest, MissingServerCertificateIsReissuedAtStart) {
  std::filesystem::remove_all(state_.server_dir());
  ASSERT_TRUE(start_daemon());
  EXPECT_THAT(log(), HasSubstr("server certificate reissued reason=\"missing\""));
  auto fingerprint = identity::Certificate::from_pem_file(state_.server_cert())->fingerprint();
  auto health = palyra({"health", "--pin-sha256", fingerprint});
  EXPECT_EQ(health.status, 0) << health.err;
  auto wrong_pin = palyra({"health", "--pin-sha256", std::string(64, 'a')});
  EXPECT_EQ(wrong_pin.status, 1);
  EXPECT_THAT(wrong_pin.err, HasSubstr(fingerprint));
}

TEST_F(DaemonTest, ServerCertificateExpiringSoonIsReissuedWithTheSameNames) {
  auto issued =
      palyra({"cert", "server", "--state-dir", state_.root.string(), "--name", "gw.example",
              "--dns", "gw.internal", "--ip", "127.0.0.1", "--valid-for", "1d"},
             false);
  ASSERT_EQ(issued.status, 0) << issued.err;
  auto before = identity::Certificate::from_pem_file(state_.server_cert())->fingerprint();
  ASSERT_TRUE(start_daemon());  // renews when under 7 days are left
  EXPECT_THAT(log(), HasSubstr("server certificate reissued reason=\"expires in 23 h\""));
  auto after = identity::Certificate::from_pem_file(state_.server_cert());
  ASSERT_TRUE(after);
  EXPECT_NE(after->fingerprint(), before);
  EXPECT_EQ(after->common_name(), "gw.example");
  EXPECT_THAT(after->dns_names(), ::testing::Contains("gw.internal"));
  EXPECT_THAT(after->ip_addresses(), ::testing::Contains("127.0.0.1"));
  EXPECT_EQ(palyra({"health", "--server-name", "gw.internal"}).status, 0);
}

TEST_F(DaemonTest, TheRunningDaemonReissuesItsExpiringCertificateAndServesTheNewOne) {
  // A server certificate valid for 8 s, reissued when 5 s are left: the
  // daemon starts with it and must replace it while it runs.
  ASSERT_EQ(palyra({"cert", "server", "--name", "localhost", "--ip", "127.0.0.1", "--valid-for",
                    "8s", "--state-dir", state_.root.string()},
                   false)
                .status,
            0);
  const auto short_lived = identity::Certificate::from_pem_file(state_.server_cert());
  ASSERT_TRUE(short_lived);
  ASSERT_TRUE(start_daemon({}, {{"PALYRA_TLS_SERVER_CERT_RENEW_BEFORE_S", "5"}}));
  EXPECT_EQ(palyra({"health", "--pin-sha256", short_lived->fingerprint()}).status, 0);
  // Real time on purpose (ServerIdentityTest moves a manual clock): the
  // daemon's timer fires about 3 s after the certificate was issued. Polled.
  for (int i = 0; i < 200 && log().find("reloaded (reissued)") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  const auto reissued = identity::Certificate::from_pem_file(state_.server_cert());
  ASSERT_TRUE(reissued);
  EXPECT_NE(reissued->fingerprint(), short_lived->fingerprint());
  EXPECT_THAT(log(), HasSubstr("server certificate reloaded (reissued)"));
  auto fresh = palyra({"health", "--pin-sha256", reissued->fingerprint()});
  EXPECT_EQ(fresh.status, 0) << fresh.err;
}

TEST_F(DaemonTest, JsonLogFormatWritesOneObjectPerLineWithStableKeys) {
  ASSERT_TRUE(start_daemon({"--log-format", "json"}));
  auto client = connect_device();
  ASSERT_TRUE(client);
  client.reset();
  EXPECT_EQ(stop_daemon(), 0);

  std::istringstream lines(log());
  std::string text;
  int lines_read = 0;
  bool saw_accepted = false;
  while (std::getline(lines, text)) {
    ++lines_read;
    const auto line = nlohmann::json::parse(text, nullptr, false);
    ASSERT_FALSE(line.is_discarded()) << "not JSON: " << text;
    ASSERT_TRUE(line.contains("time") && line.contains("level") && line.contains("message"))
        << text;
    if (line["message"] == "connection accepted") {
      saw_accepted = true;
      EXPECT_EQ(line["device_id"], "node-1") << text;
      EXPECT_EQ(line["fingerprint"].get<std::string>().size(), 64u) << text;
      EXPECT_TRUE(line.contains("peer")) << text;
    }
  }
  EXPECT_GT(lines_read, 2);
  EXPECT_TRUE(saw_accepted) << log();
}

// Debugging the wire (OPERATIONS.md): GnuTLS writes the TLS 1.3 secrets to
// SSLKEYLOGFILE for both the CLI and the daemon, so a capture can be decrypted.
TEST_F(DaemonTest, SslKeyLogFileReceivesTheHandshakeSecretsOfBothSides) {
  const auto server_keys = dir_ / "server-keys.txt";
  ASSERT_TRUE(start_daemon({}, {{"SSLKEYLOGFILE", server_keys.string()}}));
  const auto client_keys = dir_ / "client-keys.txt";
  auto health = palyra::testing::run_command(
      {PALYRA_CLI_BINARY, "health", "--state-dir", state_.root.string(), "--connect", address_},
      dir_, {{"SSLKEYLOGFILE", client_keys.string()}});
  ASSERT_EQ(health.status, 0) << health.err;
  EXPECT_EQ(stop_daemon(), 0);
  for (const auto& file : {client_keys, server_keys}) {
    std::ifstream in(file);
    const std::string keys((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_THAT(keys, HasSubstr("CLIENT_HANDSHAKE_TRAFFIC_SECRET ")) << file;
    EXPECT_THAT(keys, HasSubstr("SERVER_TRAFFIC_SECRET_0 ")) << file;
  }
}

}  // namespace
}  // namespace palyra::e2e
