// palyrad's /metrics end to end: the real daemon with --metrics-listen,
// real handshakes (accepted and refused), health calls over QUIC and gRPC
// and a publish, then a scrape over plain HTTP read strictly, and the
// figures that must have moved.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>
#include <utility>

#include "daemon_fixture.hpp"
#include "palyra/runtime/protocol.hpp"
#include "prometheus_scrape.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;

class MetricsTest : public DaemonTest {
 protected:
  Scrape scrape() {
    auto body = http_get_metrics(metrics_address_);
    EXPECT_TRUE(body) << (body ? "" : body.error().describe());
    if (!body) return {};
    auto parsed = Scrape::parse(*body);
    EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().describe()) << "\n" << *body;
    return parsed ? std::move(*parsed) : Scrape{};
  }
  // Scrapes until `done` holds (a close reaches the daemon after the
  // client's exit), at most 5 s; the last scrape.
  template <typename Done>
  Scrape scrape_until(Done done) {
    Scrape last = scrape();
    for (int i = 0; i < 50 && !done(last); ++i) {
      std::this_thread::sleep_for(100ms);
      last = scrape();
    }
    return last;
  }
  // A device certificate made by another gateway's CA.
  transport::ClientTlsConfig foreign_device_tls() {
    identity::StateDir other{dir_ / "other"};
    auto init = palyra({"init", "--state-dir", other.root.string()}, false);
    EXPECT_EQ(init.status, 0) << init.err;
    auto tls = device_tls();
    tls.cert_file = other.device_cert("node-1");
    tls.key_file = other.device_key("node-1");
    return tls;
  }
};

const std::string kOk = R"(palyra_quic_handshakes_total{result="ok"})";
const std::string kRevoked = R"(palyra_quic_handshakes_total{result="revoked"})";
const std::string kUnknownCa = R"(palyra_quic_handshakes_total{result="unknown_ca"})";
// The CLI ends its connection with NO_ERROR.
const std::string kClosed = R"(palyra_quic_connection_closes_total{cause="no_error",by="peer"})";

TEST_F(MetricsTest, OffUnlessConfigured) {
  ASSERT_TRUE(start_daemon());
  EXPECT_EQ(metrics_address_, "off");
}

TEST_F(MetricsTest, ScrapeShowsHandshakesCallsPublishesAndRefusals) {
  ASSERT_EQ(palyra({"cert", "device", "--state-dir", state_.root.string(), "node-2"}, false).status,
            0);
  ASSERT_EQ(
      palyra({"cert", "revoke", "--state-dir", state_.root.string(), "--device", "node-2"}, false)
          .status,
      0);
  const auto foreign = foreign_device_tls();
  ASSERT_TRUE(start_daemon({"--metrics-listen", "127.0.0.1:0"}));
  ASSERT_NE(metrics_address_, "off");
  ASSERT_THAT(metrics_address_, ::testing::StartsWith("127.0.0.1:"));
  ASSERT_NE(metrics_address_, "127.0.0.1:0");

  const Scrape before = scrape();
  EXPECT_EQ(before.value("palyra_build_info{version=\"0.1.0\"}"), 1.0);
  EXPECT_EQ(before.type_of("palyra_quic_handshakes_total"), "counter");
  EXPECT_EQ(before.type_of("palyra_journal_append_latency_seconds"), "histogram");
  EXPECT_EQ(before.counter(kOk), 0);
  EXPECT_EQ(before.value("palyra_journal_newest_seq"), 0.0);
  EXPECT_EQ(before.value("palyra_journal_append_latency_seconds_count"), 0.0);

  auto health = palyra({"health", "--device", "node-1"});
  ASSERT_EQ(health.status, 0) << health.err;
  auto published = palyra({"publish", "--device", "node-1", "sensor.reading", "42"});
  ASSERT_EQ(published.status, 0) << published.err;
  // The CLI's explicit fallback: QUIC to where nothing answers, then gRPC.
  const std::string quic_address = std::exchange(address_, "127.0.0.1:9");
  auto over_grpc = palyra({"health", "--device", "node-1", "--timeout", "1000", "--fallback", "tcp",
                           "--grpc-connect", grpc_address_});
  address_ = quic_address;
  ASSERT_EQ(over_grpc.status, 0) << over_grpc.err;
  auto revoked = connect(device_tls("node-2"));
  ASSERT_FALSE(revoked);
  auto unknown = connect(foreign);
  ASSERT_FALSE(unknown);
  auto live = connect_device();
  ASSERT_TRUE(live);
  EXPECT_EQ(call(*live, runtime::encode_health_request()),
            std::vector<std::string>{runtime::encode_health(true)});

  const Scrape after = scrape_until([](const Scrape& s) { return s.counter(kClosed) >= 2; });
  EXPECT_EQ(after.counter(kOk), 3) << "health, publish and the live connection";
  EXPECT_EQ(after.counter(kRevoked), 1);
  EXPECT_EQ(after.counter(kUnknownCa), 1);
  EXPECT_EQ(after.counter(R"(palyra_quic_handshakes_total{result="expired"})"), 0);
  EXPECT_EQ(after.counter(kClosed), 2) << "the two CLI connections ended";
  EXPECT_EQ(after.value(R"(palyra_quic_connections{state="established"})"), 1.0);
  EXPECT_EQ(after.value(R"(palyra_quic_connections{state="handshaking"})"), 0.0);
  EXPECT_GT(after.counter("palyra_quic_datagrams_received_total"),
            before.counter("palyra_quic_datagrams_received_total"));
  EXPECT_GT(after.counter("palyra_quic_datagrams_sent_total"),
            before.counter("palyra_quic_datagrams_sent_total"));
  EXPECT_GT(after.counter("palyra_quic_received_bytes_total"),
            after.counter("palyra_quic_datagrams_received_total"));
  EXPECT_GT(after.counter("palyra_quic_sent_bytes_total"),
            after.counter("palyra_quic_datagrams_sent_total"));

  EXPECT_EQ(after.counter(R"(palyra_grpc_calls_total{method="Health",status="OK"})"), 1);

  EXPECT_EQ(after.value("palyra_journal_newest_seq"), 1.0);
  EXPECT_EQ(after.value("palyra_journal_append_latency_seconds_count"), 1.0);
  EXPECT_GT(after.value("palyra_journal_append_latency_seconds_sum").value_or(0), 0.0);
  EXPECT_EQ(after.value("palyra_journal_commit_batch_size_count"), 1.0);
  EXPECT_EQ(after.value("palyra_journal_commit_batch_size_sum"), 1.0);
  EXPECT_EQ(after.value("palyra_journal_append_queue_depth"), 0.0);
  EXPECT_EQ(after.value("palyra_journal_followers"), 0.0);

  // palyra init issues for a year (server) and ten (CA); node-1's newest
  // certificate is the soonest unrevoked one (node-2's is revoked).
  const double day = 86400;
  EXPECT_GT(after.value("palyra_server_certificate_expiry_seconds").value_or(0), 30 * day);
  EXPECT_GT(after.value("palyra_ca_certificate_expiry_seconds").value_or(0),
            after.value("palyra_server_certificate_expiry_seconds").value_or(0));
  EXPECT_GT(after.value("palyra_device_certificate_soonest_expiry_seconds").value_or(0), 0.0);
}

TEST_F(MetricsTest, AFollowerAndItsLagAreCounted) {
  ASSERT_TRUE(start_daemon({"--metrics-listen", "127.0.0.1:0"}));
  auto follower = connect_device();
  ASSERT_TRUE(follower);
  auto stream = follower->open_stream();
  ASSERT_TRUE(stream);
  ASSERT_TRUE((*stream)->write_frame(runtime::encode_stream_events_request(std::nullopt, true)));
  (*stream)->finish();
  auto nothing = follower->read_frame(**stream, 300ms);  // sends the request; no events yet
  ASSERT_FALSE(nothing);
  const Scrape following =
      scrape_until([](const Scrape& s) { return s.value("palyra_journal_followers") == 1.0; });
  EXPECT_EQ(following.value("palyra_journal_followers"), 1.0);
  EXPECT_EQ(following.value("palyra_journal_slowest_follower_lag_events"), 0.0);
  EXPECT_EQ(following.value("palyra_quic_streams_open"), 1.0);
  EXPECT_EQ(following.value(R"(palyra_quic_connections{state="established"})"), 1.0);
}

// A follower that reconnects after a restart presents the NEW_TOKEN token
// the daemon's previous run gave it (same state directory, same secret), so
// with retry = always it comes back without a Retry; a one-shot command has
// no token and pays one.
TEST_F(MetricsTest, ReconnectingFollowerSkipsTheRetryWithItsNewToken) {
  const std::vector<std::string> args = {"--metrics-listen", "127.0.0.1:0", "--retry", "always"};
  ASSERT_TRUE(start_daemon(args));
  ASSERT_EQ(palyra({"publish", "one"}).status, 0);
  palyra::testing::ChildProcess follower(
      {PALYRA_CLI_BINARY, "events", "--follow", "--state-dir", state_.root.string(), "--connect",
       address_, "--timeout", "2000"},
      dir_ / "follower.stderr");
  EXPECT_THAT(follower.read_line(10s), ::testing::StartsWith("seq=1 name=one"));
  EXPECT_EQ(stop_daemon(), 0);
  ASSERT_TRUE(start_daemon(args));  // same port, same state directory
  ASSERT_EQ(palyra({"publish", "two"}).status, 0);
  EXPECT_THAT(follower.read_line(15s), ::testing::StartsWith("seq=2 name=two"));
  const Scrape after = scrape();
  EXPECT_EQ(after.counter(R"(palyra_quic_new_tokens_total{result="accepted"})"), 1);
  EXPECT_EQ(after.counter("palyra_quic_retries_sent_total"), 1);  // the publish's
  follower.signal(SIGINT);
  EXPECT_EQ(follower.wait(5s), 0);
}

TEST_F(MetricsTest, EnrollmentsAreCountedByResult) {
  ASSERT_TRUE(start_daemon({"--metrics-listen", "127.0.0.1:0"}));
  auto created = palyra({"token", "create", "--state-dir", state_.root.string()}, false);
  ASSERT_EQ(created.status, 0) << created.err;
  std::string token = created.out.substr(0, created.out.find_last_not_of('\n') + 1);
  token = token.substr(token.rfind('\n') + 1);  // the last line: the token
  auto enroll = [&](const std::string& device) {
    return run({PALYRA_CLI_BINARY, "enroll", token, "--connect", address_, "--state-dir",
                (dir_ / device).string(), "--device", device});
  };
  auto first = enroll("first");
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(enroll("second").status, 1) << "a one-use token";

  const Scrape after = scrape();
  EXPECT_EQ(after.counter(R"(palyra_enrollments_total{result="accepted"})"), 1);
  EXPECT_EQ(after.counter(R"(palyra_enrollments_total{result="refused"})"), 1);
  EXPECT_EQ(after.counter(R"(palyra_enrollments_total{result="locked_out"})"), 0);
  EXPECT_EQ(after.counter(R"(palyra_renewals_total{result="accepted"})"), 0);
  // The new device's certificate is in the ledger: still more than a day.
  EXPECT_GT(after.value("palyra_device_certificate_soonest_expiry_seconds").value_or(0), 0.0);
}

}  // namespace
}  // namespace palyra::e2e
