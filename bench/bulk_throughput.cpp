// Bulk throughput at the transport level: two endpoints of our library on
// loopback, one stream, 512 KiB frames, with and without GSO. Prints one
// JSON line per mode. Usage: bulk_throughput [MEBIBYTES]   (default 512)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/transport/client.hpp"
#include "palyra/transport/server.hpp"

using namespace palyra;
using namespace std::chrono_literals;

namespace {

struct Pki {
  std::filesystem::path dir, ca, chain, key, device, device_key;
};

Pki make_pki() {
  Pki p;
  p.dir = std::filesystem::temp_directory_path() / fmt::format("palyra-bulk-{}", ::getpid());
  std::filesystem::create_directories(p.dir);
  auto ca = std::move(identity::CertificateAuthority::create("Bench CA")).value();
  auto server = std::move(ca.issue_server({"localhost", {}, {"127.0.0.1"}})).value();
  auto device = std::move(ca.issue_device("bench")).value();
  p.ca = p.dir / "ca.pem";
  p.chain = p.dir / "chain.pem";
  p.key = p.dir / "server.key";
  p.device = p.dir / "device.pem";
  p.device_key = p.dir / "device.key";
  (void)write_file_atomically(p.ca, ca.certificate().pem());
  (void)write_file_atomically(p.chain, server.certificate.pem() + ca.certificate().pem());
  (void)write_file_atomically(p.key, server.key.pem(), 0600);
  (void)write_file_atomically(p.device, device.certificate.pem());
  (void)write_file_atomically(p.device_key, device.key.pem(), 0600);
  return p;
}

double run(const Pki& pki, std::size_t total_bytes, bool gso) {
  transport::Limits limits;
  limits.use_gso = gso;
  auto loop = std::move(transport::EventLoop::create()).value();
  std::uint64_t received = 0;
  transport::ServerEvents events;
  events.on_stream_readable = [&](transport::Connection&, transport::Stream& s) {
    while (auto f = s.take_frame()) received += f->size();
    if (s.read_ended()) {
      (void)s.write_frame("done");
      s.finish();
    }
  };
  auto address = std::move(transport::SocketAddress::parse("127.0.0.1:0")).value();
  auto server = std::move(transport::Server::bind(*loop, address, {pki.ca, pki.chain, pki.key, true, nullptr},
                                                  limits, std::move(events))).value();
  std::thread thread([&] { (void)loop->run(); });

  transport::ClientTlsConfig tls;
  tls.ca_file = pki.ca;
  tls.cert_file = pki.device;
  tls.key_file = pki.device_key;
  auto client = std::move(transport::Client::connect(server->local_address(), tls, limits)).value();
  auto* stream = std::move(client->open_stream()).value();
  std::string frame(524288, 'b');
  constexpr std::uint64_t kHighWater = 16 << 20;
  auto start = std::chrono::steady_clock::now();
  for (std::size_t sent = 0; sent < total_bytes; sent += frame.size()) {
    (void)stream->write_frame(frame);
    if (stream->unacknowledged_bytes() > kHighWater) {
      (void)client->run_until([&] { return stream->unacknowledged_bytes() < kHighWater / 2; }, 60s);
    }
  }
  stream->finish();
  auto done = client->read_frame(*stream, 120s);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!done || !*done) std::fprintf(stderr, "bulk: transfer did not complete\n");
  client->close();
  loop->post([&] {
    server.reset();
    loop->stop();
  });
  thread.join();
  return static_cast<double>(total_bytes) / seconds / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mebibytes = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 512;
  Pki pki = make_pki();
  for (bool gso : {true, false}) {
    double mb_per_s = run(pki, mebibytes << 20, gso);
    std::printf("{\"bench\":\"bulk\",\"gso\":%s,\"bytes\":%zu,\"mb_per_s\":%.1f}\n", gso ? "true" : "false",
                mebibytes << 20, mb_per_s);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(pki.dir);
  return 0;
}
