// palyra bench bulk: the transport library's ceiling, with no daemon and no
// journal. Two endpoints of our library in this process (a server on its own
// thread, a client on this one), one stream, 512 KiB frames, 1452-byte
// packets, certificates from a throwaway CA.
#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "figures.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/io/server.hpp"
#include "target.hpp"

namespace palyra::cli::bench {
namespace {

constexpr std::size_t kFrameBytes = 524'288;
// The sender keeps at most this much unacknowledged, like a real producer
// that must not buffer without bound.
constexpr std::uint64_t kHighWater = 4 << 20;

struct ThrowawayPki {
  std::filesystem::path dir;
  transport::ServerTlsConfig server;
  transport::ClientTlsConfig client;

  ~ThrowawayPki() {
    std::error_code ignored;
    if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
  }
};

Status make_pki(ThrowawayPki& pki) {
  std::string pattern = (std::filesystem::temp_directory_path() / "palyra-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Error(Errc::IoFailed,
                 fmt::format("cannot create a temporary directory from {}", pattern));
  }
  pki.dir = pattern;
  auto ca = identity::CertificateAuthority::create("Palyra bench CA");
  if (!ca) return std::move(ca).error();
  auto server = ca->issue_server({"localhost", {}, {"127.0.0.1"}});
  if (!server) return std::move(server).error();
  auto device = ca->issue_device("bench");
  if (!device) return std::move(device).error();
  pki.server = {pki.dir / "ca.pem", pki.dir / "server-chain.pem", pki.dir / "server.key", true,
                nullptr};
  pki.client.ca_file = pki.dir / "ca.pem";
  pki.client.cert_file = pki.dir / "device.pem";
  pki.client.key_file = pki.dir / "device.key";
  PALYRA_TRY(write_file_atomically(pki.server.ca_file, ca->certificate().pem()));
  PALYRA_TRY(write_file_atomically(pki.server.cert_chain_file,
                                   server->certificate.pem() + ca->certificate().pem()));
  PALYRA_TRY(write_file_atomically(pki.server.key_file, server->key.pem(), 0600));
  PALYRA_TRY(write_file_atomically(*pki.client.cert_file, device->certificate.pem()));
  PALYRA_TRY(write_file_atomically(*pki.client.key_file, device->key.pem(), 0600));
  return {};
}

// The receiving endpoint: counts bytes, answers "done" when the sender finishes.
class SinkServer {
 public:
  static Result<std::unique_ptr<SinkServer>> start(const ThrowawayPki& pki,
                                                   const transport::Limits& limits) {
    std::unique_ptr<SinkServer> self(new SinkServer());
    auto loop = transport::EventLoop::create();
    if (!loop) return std::move(loop).error();
    self->loop_ = std::move(*loop);
    transport::ServerEvents events;
    events.on_stream_readable = [](transport::Connection&, transport::Stream& stream) {
      while (stream.take_frame()) {
      }
      if (stream.read_ended() && !stream.read_error()) {
        (void)stream.write_frame("done");
        stream.finish();
      }
    };
    auto address = transport::SocketAddress::parse("127.0.0.1:0");
    if (!address) return std::move(address).error();
    auto server =
        transport::Server::bind(*self->loop_, *address, pki.server, limits, std::move(events));
    if (!server) return std::move(server).error();
    self->server_ = std::move(*server);
    self->thread_ = std::thread([raw = self.get()] { (void)raw->loop_->run(); });
    return self;
  }
  ~SinkServer() {
    loop_->post([this] {
      server_.reset();
      loop_->stop();
    });
    thread_.join();
  }
  transport::SocketAddress address() const { return server_->local_address(); }

 private:
  SinkServer() = default;
  std::unique_ptr<transport::EventLoop> loop_;
  std::unique_ptr<transport::Server> server_;
  std::thread thread_;
};

}  // namespace

int run_bulk(const BulkOptions& options) {
  if (options.bytes == 0)
    return report_failure("bulk", Error(Errc::InvalidArgument, "--bytes must be > 0"));
  ThrowawayPki pki;
  if (Status made = make_pki(pki); !made) return report_failure("bulk", made.error());
  transport::Limits limits;
  limits.use_gso = options.gso;
  auto server = SinkServer::start(pki, limits);
  if (!server) return report_failure("bulk", server.error());
  auto client = transport::Client::connect((*server)->address(), pki.client, limits);
  if (!client) return report_failure("bulk", client.error());
  auto stream = (*client)->open_stream();
  if (!stream) return report_failure("bulk", stream.error());

  const std::string frame(kFrameBytes, 'b');
  const auto time_limit = std::chrono::seconds(options.time_limit_s);
  Progress progress("bulk", "MiB", options.bytes >> 20);
  Stopwatch clock;
  std::uint64_t sent = 0;
  while (sent < options.bytes) {
    const std::size_t size =
        static_cast<std::size_t>(std::min<std::uint64_t>(frame.size(), options.bytes - sent));
    if (Status written = (*stream)->write_frame(std::string_view(frame).substr(0, size));
        !written) {
      return report_failure("bulk", written.error());
    }
    sent += size;
    if ((*stream)->unacknowledged_bytes() > kHighWater) {
      Status drained = (*client)->run_until(
          [&] { return (*stream)->unacknowledged_bytes() < kHighWater / 2; }, time_limit);
      if (!drained) return report_failure("bulk", drained.error());
      progress.update(sent >> 20);
    }
  }
  (*stream)->finish();
  auto answer = (*client)->read_frame(**stream, time_limit);
  const double seconds = clock.seconds();
  (*client)->close();
  if (!answer) return report_failure("bulk", answer.error());
  if (!*answer)
    return report_failure("bulk", Error(Errc::FrameReadFailed, "the receiver did not confirm"));
  print_figures({{"bench", "bulk"},
                 {"bytes", options.bytes},
                 {"frame_bytes", kFrameBytes},
                 {"gso", options.gso},
                 {"seconds", round3(seconds)},
                 {"mb_per_s", round3(static_cast<double>(options.bytes) / seconds / 1e6)}});
  return 0;
}

}  // namespace palyra::cli::bench
