// The UDP socket against the real kernel, on loopback.
#include "udp_socket.hpp"

#include <gtest/gtest.h>

#include <poll.h>

#include <string>
#include <vector>

namespace palyra::transport {
namespace {

UdpSocket bound_socket(bool use_gso) {
  auto address = SocketAddress::parse("127.0.0.1:0");
  EXPECT_TRUE(address);
  auto socket = UdpSocket::bind(*address, use_gso);
  EXPECT_TRUE(socket) << socket.error().describe();
  return std::move(socket).value();
}

// Seven datagrams of one burst, each filled with its own letter; the last
// one shorter, as GSO allows.
DatagramBatch burst_to(const SocketAddress& to) {
  DatagramBatch batch;
  constexpr std::size_t kSegment = 1200;
  for (char letter = 'a'; letter < 'g'; ++letter) batch.buffer.insert(batch.buffer.end(), kSegment, letter);
  batch.buffer.insert(batch.buffer.end(), 500, 'g');
  batch.bursts.push_back({to, 0, batch.buffer.size(), kSegment});
  return batch;
}

std::vector<std::string> receive_all(UdpSocket& socket, std::size_t expected) {
  std::vector<std::string> datagrams;
  for (int attempt = 0; attempt < 50 && datagrams.size() < expected; ++attempt) {
    pollfd ready{socket.fd(), POLLIN, 0};
    (void)poll(&ready, 1, 100);
    socket.receive([&](const SocketAddress&, std::span<std::uint8_t> data) {
      datagrams.emplace_back(reinterpret_cast<const char*>(data.data()), data.size());
    });
  }
  return datagrams;
}

std::vector<std::string> expected_datagrams() {
  std::vector<std::string> expected;
  for (char letter = 'a'; letter < 'g'; ++letter) expected.emplace_back(1200, letter);
  expected.emplace_back(500, 'g');
  return expected;
}

// Sends the burst between two sockets with offload on or off, checking that
// both sockets are in the mode asked for: what the receiver delivered.
std::vector<std::string> send_burst(bool offload) {
  UdpSocket receiver = bound_socket(offload);
  UdpSocket sender = bound_socket(offload);
  EXPECT_EQ(receiver.gro_enabled(), offload);
  EXPECT_EQ(sender.gso_enabled(), offload);
  sender.send(burst_to(receiver.local_address()));
  return receive_all(receiver, 7);
}

// With GRO the kernel hands the receiver the whole burst as one buffer; the
// socket must give QUIC back the datagrams that were sent, one by one.
TEST(UdpSocketTest, GsoBurstArrivesAsTheDatagramsThatWereSent) {
  EXPECT_EQ(send_burst(true), expected_datagrams());
}

TEST(UdpSocketTest, WithoutOffloadTheBurstGoesAsSeparateDatagrams) {
  EXPECT_EQ(send_burst(false), expected_datagrams());
}

}  // namespace
}  // namespace palyra::transport
