// Interoperability with an independent implementation of the protocol
// (quinn + rustls): our client against its server, its client against a
// minimal server built on our transport and protocol code. Both sides use a
// PKI made by our identity library, so the peer's webpki checks our
// certificates too.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <thread>

#include "../transport/test_pki.hpp"
#include "palyra/runtime/protocol.hpp"
#include "palyra/transport/client.hpp"
#include "palyra/transport/server.hpp"

namespace palyra {
namespace {

using namespace std::chrono_literals;
using transport::testing::TestPki;

const char* peer_binary() { return PALYRA_QUINN_PEER; }

struct CommandResult {
  int status = -1;
  std::string out;
  std::string err;
};

CommandResult run(const std::string& command, const std::filesystem::path& scratch) {
  std::string err_file = (scratch / "peer.stderr").string();
  FILE* pipe = popen((command + " 2>" + err_file).c_str(), "r");
  CommandResult r;
  std::array<char, 4096> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) r.out += buffer.data();
  r.status = WEXITSTATUS(pclose(pipe));
  if (FILE* f = fopen(err_file.c_str(), "r")) {
    while (fgets(buffer.data(), buffer.size(), f) != nullptr) r.err += buffer.data();
    fclose(f);
  }
  return r;
}

// `quinn-peer serve` as a child process on port 0.
class PeerServer {
 public:
  PeerServer(const TestPki& pki, const std::vector<std::string>& extra) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      std::vector<std::string> args = {peer_binary(), "serve", "--listen", "127.0.0.1:0",
                                       "--ca", pki.ca_cert().string(), "--cert",
                                       pki.server_chain().string(), "--key", pki.server_key().string()};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    FILE* stream = fdopen(out[0], "r");
    std::array<char, 256> line{};
    if (fgets(line.data(), line.size(), stream) != nullptr) {
      std::string text(line.data());
      if (text.starts_with("listening ")) {
        address_ = text.substr(10, text.find_last_not_of("\r\n") - 9);
      }
    }
    fclose(stream);
  }
  ~PeerServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& address() const { return address_; }

 private:
  pid_t pid_ = -1;
  std::string address_;
};

// A minimal node server on our library: node.health, node.stream_events
// over synthetic events 1..max_seq, and the protocol's error frames.
class MinimalServer {
 public:
  MinimalServer(const TestPki& pki, std::uint64_t max_seq) : max_seq_(max_seq) {
    loop_ = std::move(transport::EventLoop::create()).value();
    transport::ServerEvents events;
    events.on_stream_readable = [this](transport::Connection&, transport::Stream& s) { serve(s); };
    transport::ServerTlsConfig tls{pki.ca_cert(), pki.server_chain(), pki.server_key(), true, nullptr};
    auto address = std::move(transport::SocketAddress::parse("127.0.0.1:0")).value();
    server_ = std::move(transport::Server::bind(*loop_, address, tls, {}, std::move(events))).value();
    thread_ = std::thread([this] { (void)loop_->run(); });
  }
  ~MinimalServer() {
    loop_->post([this] {
      server_.reset();
      loop_->stop();
    });
    thread_.join();
  }
  std::string address() const { return server_->local_address().to_string(); }

 private:
  void serve(transport::Stream& stream) {
    auto frame = stream.take_frame();
    while (stream.take_frame()) {
    }
    if (!frame) {
      if (stream.read_error() || stream.read_ended()) {
        reply(stream, runtime::encode_error(runtime::ProtocolError::StreamFailure));
      }
      return;
    }
    auto parsed = runtime::parse_request(*frame);
    if (auto* error = std::get_if<runtime::RequestError>(&parsed)) {
      reply(stream, runtime::encode_error(error->kind));
      return;
    }
    const auto& request = std::get<runtime::Request>(parsed);
    if (request.method == runtime::Method::Health) {
      reply(stream, runtime::encode_health(true));
      return;
    }
    for (std::uint64_t seq = request.resume_from.value_or(0) + 1; seq <= max_seq_; ++seq) {
      (void)stream.write_frame(runtime::encode_event({seq, "synthetic", "null", "", 0}));
    }
    stream.finish();
  }
  static void reply(transport::Stream& stream, const std::string& frame) {
    (void)stream.write_frame(frame);
    stream.finish();
  }

  std::uint64_t max_seq_;
  std::unique_ptr<transport::EventLoop> loop_;
  std::unique_ptr<transport::Server> server_;
  std::thread thread_;
};

class QuinnInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string(peer_binary()).empty()) {
      GTEST_SKIP() << "quinn peer not built (scripts/test builds it when its sources are beside "
                      "the project)";
    }
  }
  transport::ClientTlsConfig client_tls() const {
    transport::ClientTlsConfig tls;
    tls.ca_file = pki_.ca_cert();
    tls.cert_file = pki_.device_cert();
    tls.key_file = pki_.device_key();
    return tls;
  }
  std::string peer_client_args(const std::string& address) const {
    return " --connect " + address + " --server-name localhost --ca " + pki_.ca_cert().string() +
           " --cert " + pki_.device_cert().string() + " --key " + pki_.device_key().string();
  }
  // Our client: one request, every response frame.
  static std::vector<std::string> call(transport::Client& client, const std::string& request) {
    std::vector<std::string> frames;
    auto stream = client.open_stream();
    EXPECT_TRUE(stream.ok());
    if (!stream) return frames;
    EXPECT_TRUE((*stream)->write_frame(request).ok());
    (*stream)->finish();
    while (true) {
      auto frame = client.read_frame(**stream, 10s);
      EXPECT_TRUE(frame.ok()) << frame.error().describe();
      if (!frame || !frame->has_value()) break;
      frames.push_back(std::move(**frame));
    }
    return frames;
  }
  static transport::SocketAddress parse(const std::string& address) {
    return std::move(transport::SocketAddress::parse(address)).value();
  }
  TestPki pki_;
};

std::string event_frame(std::uint64_t seq) {
  return R"({"protocol_version":1,"kind":"event","ok":true,"seq":)" + std::to_string(seq) + "}";
}

TEST_F(QuinnInterop, OurClientAgainstTheirServer) {
  PeerServer peer(pki_, {});
  ASSERT_FALSE(peer.address().empty()) << "quinn-peer serve did not start";
  auto client = transport::Client::connect(parse(peer.address()), client_tls());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ(call(**client, runtime::encode_health_request()),
            std::vector<std::string>{runtime::encode_health(true)});
  auto all = call(**client, runtime::encode_stream_events_request(std::nullopt, false));
  EXPECT_EQ(all, (std::vector<std::string>{event_frame(1), event_frame(2), event_frame(3),
                                           event_frame(4), event_frame(5)}));
  EXPECT_EQ(call(**client, runtime::encode_stream_events_request(3, false)),
            (std::vector<std::string>{event_frame(4), event_frame(5)}));
  EXPECT_TRUE(call(**client, runtime::encode_stream_events_request(5, false)).empty());
  EXPECT_EQ(call(**client, R"({"protocol_version":2,"method":"node.health"})"),
            std::vector<std::string>{runtime::encode_error(runtime::ProtocolError::ProtocolMismatch)});
  EXPECT_EQ(call(**client, R"({"protocol_version":1,"method":"node.nope"})"),
            std::vector<std::string>{runtime::encode_error(runtime::ProtocolError::UnsupportedMethod)});
  EXPECT_EQ(call(**client, R"({"protocol_version":1,)"),
            std::vector<std::string>{runtime::encode_error(runtime::ProtocolError::InvalidRequest)});
  // Many requests on one connection, beyond the stream limit over time.
  for (int i = 0; i < 100; ++i) ASSERT_EQ(call(**client, runtime::encode_health_request()).size(), 1u);
}

TEST_F(QuinnInterop, OurClientPinsTheirServer) {
  PeerServer peer(pki_, {});
  ASSERT_FALSE(peer.address().empty());
  auto tls = client_tls();
  tls.pinned_sha256 = pki_.server_fingerprint();
  EXPECT_TRUE(transport::Client::connect(parse(peer.address()), tls).ok());
  tls.pinned_sha256 = std::string(64, '0');
  auto mismatch = transport::Client::connect(parse(peer.address()), tls);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code(), Errc::PinnedCertificateMismatch);
}

TEST_F(QuinnInterop, TheirServerRefusesOurClientWithoutCertificate) {
  PeerServer peer(pki_, {});
  ASSERT_FALSE(peer.address().empty());
  auto tls = client_tls();
  tls.cert_file.reset();
  tls.key_file.reset();
  auto refused = transport::Client::connect(parse(peer.address()), tls);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Errc::ConnectFailed);
  EXPECT_NE(refused.error().message().find("0x174"), std::string::npos) << refused.error().describe();
}

TEST_F(QuinnInterop, TheirClientAgainstOurServer) {
  MinimalServer server(pki_, 5);
  std::string peer = peer_binary();
  std::string args = peer_client_args(server.address());
  auto scratch = pki_.dir();
  auto health = run(peer + " health" + args, scratch);
  EXPECT_EQ(health.status, 0) << health.err;
  EXPECT_EQ(health.out, runtime::encode_health(true) + "\n");
  auto pinned = run(peer + " health" + args + " --pin-sha256 " + pki_.server_fingerprint(), scratch);
  EXPECT_EQ(pinned.status, 0) << pinned.err;
  auto events = run(peer + " events" + args, scratch);
  EXPECT_EQ(events.status, 0) << events.err;
  EXPECT_EQ(std::count(events.out.begin(), events.out.end(), '\n'), 5);
  EXPECT_NE(events.out.find(R"("seq":5)"), std::string::npos);
  auto resumed = run(peer + " events" + args + " --resume-from 3", scratch);
  EXPECT_EQ(std::count(resumed.out.begin(), resumed.out.end(), '\n'), 2) << resumed.out;
  EXPECT_EQ(resumed.out.find(R"("seq":3)"), std::string::npos);
}

TEST_F(QuinnInterop, TheirRawCasesAgainstOurServer) {
  MinimalServer server(pki_, 5);
  std::string base = std::string(peer_binary()) + " raw" + peer_client_args(server.address());
  auto err = [](runtime::ProtocolError e) { return runtime::encode_error(e); };
  struct Case {
    std::string args;
    std::string expect;
  } cases[] = {
      {R"( --frame-json '{"protocol_version":1,')", err(runtime::ProtocolError::InvalidRequest)},
      {R"( --frame-json '{"protocol_version":1,"method":"node.health","x":true}')", err(runtime::ProtocolError::InvalidRequest)},
      {R"( --frame-json '[1,"node.health"]')", err(runtime::ProtocolError::InvalidRequest)},
      {R"( --frame-json '{"protocol_version":1,"method":"node.health","method":"node.health"}')", err(runtime::ProtocolError::InvalidRequest)},
      {R"( --frame-json '')", err(runtime::ProtocolError::InvalidRequest)},
      {R"( --frame-json '{"protocol_version":2,"method":"node.health"}')", err(runtime::ProtocolError::ProtocolMismatch)},
      {R"( --frame-json '{"protocol_version":1,"method":"node.nope"}')", err(runtime::ProtocolError::UnsupportedMethod)},
      {R"( --length-override 524289 --frame-json '{"protocol_version":1,"method":"node.health"}')", err(runtime::ProtocolError::StreamFailure)},
      {R"( --length-override 100 --frame-json '{"protocol_version":1,"method":"node.health"}')", err(runtime::ProtocolError::StreamFailure)},
      {R"( --frame-json '{"protocol_version":1,"method":"node.stream_events","resume_from":null}')", ""},
  };
  for (const auto& c : cases) {
    auto r = run(base + c.args, pki_.dir());
    EXPECT_EQ(r.status, 0) << c.args << ": " << r.err;
    if (c.expect.empty()) {
      EXPECT_NE(r.out.find(R"("seq":5)"), std::string::npos) << c.args << ": " << r.out;
    } else {
      EXPECT_EQ(r.out, c.expect + "\n") << c.args << ": " << r.err;
    }
  }
}

TEST_F(QuinnInterop, TheirClientIsRefusedByOurServerWithoutCertificateOrFromAnotherCa) {
  MinimalServer server(pki_, 5);
  std::string peer = peer_binary();
  std::string anonymous = " --connect " + server.address() + " --server-name localhost --ca " +
                          pki_.ca_cert().string();
  auto none = run(peer + " health" + anonymous, pki_.dir());
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.err.find("requires a client certificate"), std::string::npos) << none.err;
  TestPki other;
  auto stranger = run(peer + " health" + anonymous + " --cert " + other.device_cert().string() +
                          " --key " + other.device_key().string(),
                      pki_.dir());
  EXPECT_EQ(stranger.status, 1) << stranger.out;
  auto wrong_pin = run(peer + " health" + peer_client_args(server.address()) + " --pin-sha256 " +
                           std::string(64, '0'),
                       pki_.dir());
  EXPECT_EQ(wrong_pin.status, 1);
  EXPECT_NE(wrong_pin.err.find("pin mismatch"), std::string::npos) << wrong_pin.err;
}

}  // namespace
}  // namespace palyra
