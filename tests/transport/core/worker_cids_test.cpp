// The connection IDs a worker issues name it to every worker of the same
// run, and nothing else is taken for such a name (ARCHITECTURE.md, Workers).
#include "worker_cids.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <set>
#include <vector>

#include "palyra/transport/server_secret.hpp"
#include "quic_random.hpp"

namespace palyra::transport {
namespace {

using Cid = std::array<std::uint8_t, kWorkerCidLength>;

ServerKeys fresh_keys() {
  return ServerKeys::derive(generate_server_secret()).value();
}

WorkerCids worker(const ServerKeys& keys, std::size_t index, std::size_t workers) {
  return WorkerCids::make(keys.worker_cid_key(), index, workers).value();
}

Cid issue(const WorkerCids& cids) {
  Cid cid{};
  cids.issue(cid.data());
  return cid;
}

// A short header packet (RFC 9000 §17.3) to `dcid`, padded.
std::vector<std::uint8_t> short_packet(const Cid& dcid) {
  // Sized first and written in place: gcc 12 at -O3 misreads a vector's
  // growth by insert() as an out-of-bounds copy (-Warray-bounds).
  std::vector<std::uint8_t> packet(64, 0xaa);
  packet[0] = 0x40;
  std::copy(dcid.begin(), dcid.end(), packet.begin() + 1);
  return packet;
}

// A long header packet of `type` (bits 0x30) and `version` to `dcid`.
std::vector<std::uint8_t> long_packet(std::uint8_t type, const Cid& dcid,
                                      std::uint32_t version = 1) {
  std::vector<std::uint8_t> packet(1200, 0);
  const std::array<std::uint8_t, 6> header{
      static_cast<std::uint8_t>(0xc0 | type),   static_cast<std::uint8_t>(version >> 24),
      static_cast<std::uint8_t>(version >> 16), static_cast<std::uint8_t>(version >> 8),
      static_cast<std::uint8_t>(version),       static_cast<std::uint8_t>(dcid.size())};
  auto at = std::copy(header.begin(), header.end(), packet.begin());
  at = std::copy(dcid.begin(), dcid.end(), at);
  *at++ = 8;  // SCID length
  std::fill_n(at, 8, 0x11);
  return packet;
}

TEST(WorkerCidsTest, EveryIssuedIdNamesItsWorkerToEveryWorker) {
  const ServerKeys keys = fresh_keys();
  const WorkerCids reader = worker(keys, 0, 4);
  std::set<Cid> seen;
  for (std::size_t index = 0; index < 4; ++index) {
    const WorkerCids issuer = worker(keys, index, 4);
    for (int i = 0; i < 256; ++i) {
      const Cid cid = issue(issuer);
      EXPECT_TRUE(seen.insert(cid).second) << "a CID was issued twice";
      EXPECT_EQ(reader.worker_of(cid), std::optional<std::size_t>(index));
      EXPECT_EQ(issuer.worker_of(cid), std::optional<std::size_t>(index));
    }
  }
}

// RFC 9000 §5.1: an observer must not link the CIDs of one connection. A
// plain worker byte would repeat in every CID of a worker; encrypted, every
// byte position takes many values.
TEST(WorkerCidsTest, IssuedIdsShowNoConstantByte) {
  const WorkerCids issuer = worker(fresh_keys(), 2, 3);
  std::array<std::set<std::uint8_t>, kWorkerCidLength> values;
  for (int i = 0; i < 200; ++i) {
    const Cid cid = issue(issuer);
    for (std::size_t at = 0; at < cid.size(); ++at) values[at].insert(cid[at]);
  }
  for (std::size_t at = 0; at < values.size(); ++at) {
    EXPECT_GT(values[at].size(), 50u) << "byte " << at;
  }
}

// A restarted daemon keeps its secret but may run fewer workers: the CIDs of
// a worker that no longer exists name none (they are handled where they land
// and answered with a Stateless Reset there).
TEST(WorkerCidsTest, OlderRunsWorkerBeyondTheCountNamesNone) {
  const ServerKeys keys = fresh_keys();
  const WorkerCids before = worker(keys, 6, 8);
  const WorkerCids now = worker(keys, 0, 4);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(now.worker_of(issue(before)), std::nullopt);
  // Worker 2 of the older run is worker 2 of this one.
  EXPECT_EQ(now.worker_of(issue(worker(keys, 2, 8))), std::optional<std::size_t>(2));
}

// Garbage, another secret's CIDs, or CIDs of another length name no worker,
// or by rare chance a valid one; never an index out of range.
TEST(WorkerCidsTest, GarbageNamesAValidWorkerOrNone) {
  const WorkerCids reader = worker(fresh_keys(), 0, 4);
  const WorkerCids stranger = worker(fresh_keys(), 1, 4);
  std::size_t named = 0;
  for (int i = 0; i < 4096; ++i) {
    Cid garbage{};
    random_bytes(garbage.data(), garbage.size());
    for (const Cid& cid : {garbage, issue(stranger)}) {
      const auto owner = reader.worker_of(cid);
      if (owner) {
        EXPECT_LT(*owner, 4u);
        ++named;
      }
    }
  }
  // Expected about 8192 * 4 / 65536 = 0.5; a check byte that is not
  // checked would name a worker for about half of them.
  EXPECT_LT(named, 20u);
  const Cid cid = issue(reader);
  EXPECT_EQ(reader.worker_of(std::span(cid).first(8)), std::nullopt);
  EXPECT_EQ(reader.worker_of({}), std::nullopt);
  std::vector<std::uint8_t> longer(cid.begin(), cid.end());
  longer.push_back(0);
  EXPECT_EQ(reader.worker_of(longer), std::nullopt);
}

TEST(WorkerCidsTest, OnlyDcidsWeChoseAreInterpreted) {
  const ServerKeys keys = fresh_keys();
  const WorkerCids reader = worker(keys, 0, 4);
  const Cid ours = issue(worker(keys, 3, 4));
  const std::optional<std::size_t> three(3);
  EXPECT_EQ(reader.owner_of_datagram(short_packet(ours)), three);
  EXPECT_EQ(reader.owner_of_datagram(long_packet(0x20, ours)), three);  // Handshake
  // Initial and 0-RTT: the client chose the DCID; even one that happens to
  // name a worker stays where the kernel put it.
  EXPECT_EQ(reader.owner_of_datagram(long_packet(0x00, ours)), std::nullopt);
  EXPECT_EQ(reader.owner_of_datagram(long_packet(0x10, ours)), std::nullopt);
  // Another version, and datagrams that are no QUIC packet.
  EXPECT_EQ(reader.owner_of_datagram(long_packet(0x20, ours, 0xff00001d)), std::nullopt);
  EXPECT_EQ(reader.owner_of_datagram({}), std::nullopt);
  const auto packet = short_packet(ours);
  EXPECT_EQ(reader.owner_of_datagram(std::span(packet).first(5)), std::nullopt);
}

TEST(WorkerCidsTest, RefusesImpossibleWorkers) {
  const ServerKeys keys = fresh_keys();
  EXPECT_FALSE(WorkerCids::make(keys.worker_cid_key(), 0, 0));
  EXPECT_FALSE(WorkerCids::make(keys.worker_cid_key(), 4, 4));
  EXPECT_FALSE(WorkerCids::make(keys.worker_cid_key(), 0, kMaxWorkers + 1));
  EXPECT_FALSE(WorkerCids::make(keys.worker_cid_key().first(8), 0, 1));
  EXPECT_TRUE(WorkerCids::make(keys.worker_cid_key(), kMaxWorkers - 1, kMaxWorkers));
}

}  // namespace
}  // namespace palyra::transport
