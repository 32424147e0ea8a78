// health_probe ADDRESS STATE_DIR [DEVICE]: calls node.health on the palyrad
// at ADDRESS as DEVICE (node-1), with the identity `palyra init` put in
// STATE_DIR, and prints each response frame on stdout.
//
// The request frame is written here as JSON (PROTOCOL.md §4) rather than with
// the runtime's encoder: the wire format is the public contract, and the
// runtime's protocol library is an internal of the daemon, not installed.
#include <chrono>
#include <iostream>
#include <string>

#include "palyra/identity/state_dir.hpp"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/socket_address.hpp"
#include "palyra/transport/stream.hpp"

namespace {

int fail(std::string_view doing, const palyra::Error& error) {
  std::cerr << "health_probe: " << doing << ": " << error.describe() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: health_probe ADDRESS STATE_DIR [DEVICE]\n";
    return 2;
  }
  const palyra::identity::StateDir state{argv[2]};
  const std::string device = argc == 4 ? argv[3] : "node-1";

  auto address = palyra::transport::SocketAddress::parse(argv[1]);
  if (!address) return fail("address", address.error());
  palyra::transport::ClientTlsConfig tls;
  tls.ca_file = state.ca_cert();
  tls.cert_file = state.device_cert(device);
  tls.key_file = state.device_key(device);
  tls.server_name = address->host();

  auto client = palyra::transport::Client::connect(*address, tls);
  if (!client) return fail("connect", client.error());
  auto stream = (*client)->open_stream(10s);
  if (!stream) return fail("open stream", stream.error());
  if (auto sent = (*stream)->write_frame(R"({"protocol_version":1,"method":"node.health"})");
      !sent) {
    return fail("send", sent.error());
  }
  (*stream)->finish();
  int frames = 0;
  while (true) {
    auto frame = (*client)->read_frame(**stream, 10s);
    if (!frame) return fail("read", frame.error());
    if (!frame->has_value()) break;  // the daemon finished the call
    std::cout << **frame << "\n";
    ++frames;
  }
  (*client)->close();
  return frames > 0 ? 0 : 1;
}
