// The UDP socket against the real kernel, on loopback.
#include "udp_socket.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

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
  for (char letter = 'a'; letter < 'g'; ++letter)
    batch.buffer.insert(batch.buffer.end(), kSegment, letter);
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

// A control message as the kernel writes it for UDP_GRO: an int.
struct GroControl {
  msghdr header{};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> buffer{};

  explicit GroControl(int segment, std::size_t length = CMSG_LEN(sizeof(int))) {
    header.msg_control = buffer.data();
    header.msg_controllen = buffer.size();
    cmsghdr* c = CMSG_FIRSTHDR(&header);
    c->cmsg_level = IPPROTO_UDP;
    c->cmsg_type = UDP_GRO;
    c->cmsg_len = length;
    std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
  }
};

// The value is the whole int: a u16 read of it would see 1200 in 0x104b0 on
// a little-endian machine, and 0 (the high half) on a big-endian one.
TEST(UdpSocketTest, GroSegmentSizeIsTheIntTheKernelWrites) {
  EXPECT_EQ(gro_segment_size(GroControl(1200).header), 1200u);
  EXPECT_EQ(gro_segment_size(GroControl(65535).header), 65535u);
  EXPECT_EQ(gro_segment_size(GroControl(0x10000 + 1200).header), 0u);
  EXPECT_EQ(gro_segment_size(GroControl(-1).header), 0u);
  EXPECT_EQ(gro_segment_size(GroControl(1200, CMSG_LEN(sizeof(std::uint16_t))).header), 0u);
  msghdr none{};
  EXPECT_EQ(gro_segment_size(none), 0u);
}

UdpSocket bind_to(const SocketAddress& address, PortSharing sharing) {
  auto socket = UdpSocket::bind(address, false, sharing);
  EXPECT_TRUE(socket) << socket.error().describe();
  return std::move(socket).value();
}

// Without sharing asked for, a port has one socket: the second bind fails.
TEST(UdpSocketTest, AnExclusivePortRefusesASecondSocket) {
  UdpSocket first = bound_socket(false);
  for (PortSharing sharing : {PortSharing::Exclusive, PortSharing::SharedWithWorkers}) {
    auto second = UdpSocket::bind(first.local_address(), false, sharing);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code(), Errc::EndpointBindFailed);
  }
}

// Workers' sockets share one port, and the kernel gives each of them some of
// the clients: 64 clients, one source port each, one datagram each.
TEST(UdpSocketTest, WorkersSocketsShareAPortAndEachReceivesSomeClients) {
  UdpSocket first = bind_to(std::move(SocketAddress::parse("127.0.0.1:0")).value(),
                            PortSharing::SharedWithWorkers);
  UdpSocket second = bind_to(first.local_address(), PortSharing::SharedWithWorkers);
  ASSERT_EQ(second.local_address().port(), first.local_address().port());

  constexpr std::size_t kClients = 64;
  for (std::size_t i = 0; i < kClients; ++i) {
    auto client = UdpSocket::connect(first.local_address(), false);
    ASSERT_TRUE(client) << client.error().describe();
    DatagramBatch batch;
    batch.buffer.assign(100, static_cast<std::uint8_t>(i));
    batch.bursts.push_back({first.local_address(), 0, batch.buffer.size(), batch.buffer.size()});
    client->send(batch);
  }
  std::array<std::size_t, 2> received{};
  std::array<UdpSocket*, 2> sockets{&first, &second};
  for (int attempt = 0; attempt < 50 && received[0] + received[1] < kClients; ++attempt) {
    std::array<pollfd, 2> ready{pollfd{first.fd(), POLLIN, 0}, pollfd{second.fd(), POLLIN, 0}};
    (void)poll(ready.data(), ready.size(), 100);
    for (std::size_t s = 0; s < sockets.size(); ++s) {
      received[s] += sockets[s]->receive([](const SocketAddress&, std::span<std::uint8_t>) {});
    }
  }
  EXPECT_EQ(received[0] + received[1], kClients);
  // The kernel hashes the source address and port: all 64 on one socket
  // has probability 2^-63.
  EXPECT_GT(received[0], 0u);
  EXPECT_GT(received[1], 0u);
}

}  // namespace
}  // namespace palyra::transport
