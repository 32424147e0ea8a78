// Two Connections wired back to back in memory, no sockets and no clock: the
// sans-I/O core on its own, deterministic to the packet.
#include <gnutls/x509.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../test_pki.hpp"
#include "palyra/transport/connection.hpp"
#include "quic_memory.hpp"
#include "tls_context.hpp"
#include "verified_chain_cache.hpp"

namespace palyra::transport {
namespace {

using testing::TestPki;

class ConnectionPairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_address_ = std::move(SocketAddress::parse("127.0.0.1:40000")).value();
    server_address_ = std::move(SocketAddress::parse("127.0.0.1:7444")).value();
    client_tls_ = std::move(ClientTlsContext::create(pki_.device_tls())).value();
    client_ =
        std::move(Connection::connect(client_tls_, limits_, client_address_, server_address_, now_))
            .value();
    server_tls_ = std::move(ServerTlsContext::create({pki_.ca_cert(), pki_.server_chain(),
                                                      pki_.server_key(), true, nullptr}))
                      .value();
    client_->events.on_closed = [](Connection&, const Error& error) {
      ADD_FAILURE() << error.describe();
    };
  }

  // Everything `from` has to send, delivered to `to` (accepting the server
  // side on the first datagram). Returns how many datagrams went over.
  std::size_t deliver(Connection& from, bool to_server) {
    DatagramBatch batch;
    from.write_datagrams(now_, batch);
    std::size_t count = 0;
    for (const auto& burst : batch.bursts) {
      for (std::size_t at = 0; at < burst.length; at += burst.segment_size) {
        std::span<const std::uint8_t> datagram(batch.buffer.data() + burst.offset + at,
                                               std::min(burst.segment_size, burst.length - at));
        ++count;
        if (!to_server) {
          client_->receive(client_address_, server_address_, datagram, now_);
          continue;
        }
        if (!server_) {
          server_ = std::move(Connection::accept(server_tls_, limits_, server_address_,
                                                 client_address_, datagram, now_))
                        .value();
          server_->events.on_stream_readable = [this](Connection&, Stream& stream) {
            while (auto frame = stream.take_frame()) server_frames_.push_back(std::move(*frame));
          };
        }
        server_->receive(server_address_, client_address_, datagram, now_);
      }
    }
    return count;
  }

  void handshake() {
    for (int round = 0; round < 10; ++round) {
      now_ += 1'000'000;
      deliver(*client_, true);
      deliver(*server_, false);
      if (client_->state() == Connection::State::Established &&
          server_->state() == Connection::State::Established) {
        return;
      }
    }
    FAIL() << "the handshake did not complete in 10 round trips";
  }

  // A second connection from the same client context, to a fresh server
  // connection from the same server context.
  void reconnect() {
    server_.reset();
    client_ =
        std::move(Connection::connect(client_tls_, limits_, client_address_, server_address_, now_))
            .value();
    handshake();
  }

  TestPki pki_;
  Limits limits_;
  std::uint64_t now_ = 1'000'000'000;
  SocketAddress client_address_;
  SocketAddress server_address_;
  std::shared_ptr<const ServerTlsContext> server_tls_;
  std::shared_ptr<const ClientTlsContext> client_tls_;
  std::unique_ptr<Connection> client_;
  std::unique_ptr<Connection> server_;
  std::vector<std::string> server_frames_;
};

// A frame smaller than a packet leaves ngtcp2 asking for more
// (NGTCP2_ERR_WRITE_MORE) with the packet half built in our buffer; the
// bytes it wrote must survive into the datagram, or the request travels as
// padding and only a retransmission a PTO later carries it.
TEST_F(ConnectionPairTest, SmallFramesArriveInTheFirstDatagram) {
  handshake();
  ASSERT_TRUE(server_);
  for (int call = 0; call < 3; ++call) {
    auto stream = client_->open_stream();
    ASSERT_TRUE(stream) << stream.error().describe();
    ASSERT_TRUE((*stream)->write_frame("request " + std::to_string(call)));
    (*stream)->finish();
  }
  ASSERT_GE(deliver(*client_, true), 1u);
  std::sort(server_frames_.begin(), server_frames_.end());  // streams are independent
  EXPECT_EQ(server_frames_, (std::vector<std::string>{"request 0", "request 1", "request 2"}));
}

// An established server connection lets go of its TLS session (memory per
// idle connection) and keeps working: streams still flow both ways.
TEST_F(ConnectionPairTest, ServerReleasesItsTlsSessionOnceEstablished) {
  handshake();
  ASSERT_TRUE(server_);
  deliver(*client_, true);  // the client's acknowledgements reach an established server
  EXPECT_FALSE(server_->holds_tls_session());
  EXPECT_TRUE(client_->holds_tls_session());  // a client may still get CRYPTO data
  EXPECT_EQ(server_->peer().device_id, pki_.device_id());
  auto stream = client_->open_stream();
  ASSERT_TRUE(stream) << stream.error().describe();
  ASSERT_TRUE((*stream)->write_frame("after release"));
  (*stream)->finish();
  now_ += 1'000'000;
  deliver(*client_, true);
  EXPECT_EQ(server_frames_, (std::vector<std::string>{"after release"}));
}

// write_framed takes many frames as one buffer (the event stream's batches):
// the peer must still see each frame, in order, and frames written after it
// with write_frame must follow them on the same stream.
TEST_F(ConnectionPairTest, PreFramedBatchArrivesAsSeparateFrames) {
  handshake();
  ASSERT_TRUE(server_);
  auto stream = client_->open_stream();
  ASSERT_TRUE(stream) << stream.error().describe();
  std::string batch;
  for (const std::string& frame :
       std::vector<std::string>{"first", "second", std::string(3000, 'x')}) {
    ASSERT_TRUE(append_frame(batch, frame, limits_.max_frame_bytes));
  }
  ASSERT_TRUE((*stream)->write_framed(std::move(batch)));
  ASSERT_TRUE((*stream)->write_frame("after the batch"));
  (*stream)->finish();
  EXPECT_FALSE((*stream)->write_framed("late"));  // a finished stream takes nothing more
  for (int round = 0; round < 5 && server_frames_.size() < 4; ++round) {
    now_ += 1'000'000;
    deliver(*client_, true);
    deliver(*server_, false);
  }
  EXPECT_EQ(server_frames_, (std::vector<std::string>{"first", "second", std::string(3000, 'x'),
                                                      "after the batch"}));
}

// A bulk sender must not make malloc fetch fresh pages for every large
// frame: the buffer of an acknowledged frame carries the next one while the
// stream keeps sending, and an idle stream keeps none.
TEST_F(ConnectionPairTest, LargeFrameReusesAnAcknowledgedBufferAndIdleStreamKeepsNone) {
  handshake();
  ASSERT_TRUE(server_);
  auto opened = client_->open_stream();
  ASSERT_TRUE(opened) << opened.error().describe();
  Stream& stream = **opened;
  const std::string first(100 * 1024, 'a');
  const std::string second(100 * 1024, 'b');
  const std::string third(60 * 1024, 'c');
  ASSERT_TRUE(stream.write_frame(first));
  ASSERT_TRUE(stream.write_frame(second));
  // Slow start sends the first frame (and its acknowledgement comes back)
  // before all of the second is out: stop in that window.
  for (int round = 0; round < 20 && stream.unacknowledged_bytes() > second.size() + 4; ++round) {
    now_ += 1'000'000;
    deliver(*client_, true);
    deliver(*server_, false);
  }
  ASSERT_LE(stream.unacknowledged_bytes(), second.size() + 4);
  ASSERT_GT(stream.unacknowledged_bytes(), 0u) << "both frames were acknowledged in the same round";
  const std::size_t held_before = stream.send_buffer_bytes();
  ASSERT_TRUE(stream.write_frame(third));
  EXPECT_EQ(stream.send_buffer_bytes(), held_before) << "the third frame took a new buffer";
  for (int round = 0; round < 20 && stream.unacknowledged_bytes() > 0; ++round) {
    now_ += 1'000'000;
    deliver(*client_, true);
    deliver(*server_, false);
  }
  EXPECT_EQ(server_frames_, (std::vector<std::string>{first, second, third}));
  EXPECT_EQ(stream.unacknowledged_bytes(), 0u);
  EXPECT_EQ(stream.send_buffer_bytes(), 0u);
}

// ngtcp2 takes every block of a connection from quic_memory() (the page
// region the per-connection memory figure rests on) and gives each back to
// it: counted around the client's creation, the server's acceptance, a
// handshake with a stream, and the destruction of both.
TEST_F(ConnectionPairTest, NgtcpAllocatesEachConnectionThroughTheProjectsAllocator) {
  client_.reset();
  const std::int64_t before = quic_memory_blocks_in_use();
  client_ =
      std::move(Connection::connect(client_tls_, limits_, client_address_, server_address_, now_))
          .value();
  const std::int64_t with_client = quic_memory_blocks_in_use();
  EXPECT_GT(with_client, before) << "the client's ngtcp2_conn did not come from quic_memory()";

  DatagramBatch batch;
  client_->write_datagrams(now_, batch);
  ASSERT_FALSE(batch.bursts.empty());
  const auto& first = batch.bursts.front();
  std::span<const std::uint8_t> initial(batch.buffer.data() + first.offset,
                                        std::min(first.segment_size, first.length));
  const std::int64_t before_server = quic_memory_blocks_in_use();
  auto accepted =
      Connection::accept(server_tls_, limits_, server_address_, client_address_, initial, now_);
  ASSERT_TRUE(accepted) << accepted.error().describe();
  EXPECT_GT(quic_memory_blocks_in_use(), before_server)
      << "the server's ngtcp2_conn did not come from quic_memory()";
  accepted->reset();
  EXPECT_EQ(quic_memory_blocks_in_use(), before_server)
      << "the server's blocks were not all freed through us";

  // A whole connection's life: every block it took is back when both are gone.
  client_.reset();
  EXPECT_EQ(quic_memory_blocks_in_use(), before);
  client_ =
      std::move(Connection::connect(client_tls_, limits_, client_address_, server_address_, now_))
          .value();
  handshake();
  ASSERT_TRUE(server_);
  auto stream = client_->open_stream();
  ASSERT_TRUE(stream) << stream.error().describe();
  ASSERT_TRUE((*stream)->write_frame(std::string(20000, 'm')));
  (*stream)->finish();
  for (int round = 0; round < 5 && server_frames_.empty(); ++round) {
    now_ += 1'000'000;
    deliver(*client_, true);
    deliver(*server_, false);
  }
  EXPECT_EQ(server_frames_, std::vector<std::string>{std::string(20000, 'm')});
  server_.reset();
  client_.reset();
  EXPECT_EQ(quic_memory_blocks_in_use(), before);
}

// The cache key of the chain a client presents from `pem_file`.
VerifiedChainCache::Key chain_key_of_file(const std::filesystem::path& pem_file) {
  gnutls_datum_t pem{};
  EXPECT_EQ(gnutls_load_file(pem_file.c_str(), &pem), 0);
  gnutls_x509_crt_t* list = nullptr;
  unsigned count = 0;
  EXPECT_GE(gnutls_x509_crt_list_import2(&list, &count, &pem, GNUTLS_X509_FMT_PEM, 0), 0);
  std::vector<gnutls_datum_t> ders(count);
  std::vector<std::span<const unsigned char>> chain;
  for (unsigned i = 0; i < count; ++i) {
    EXPECT_EQ(gnutls_x509_crt_export2(list[i], GNUTLS_X509_FMT_DER, &ders[i]), 0);
    chain.emplace_back(ders[i].data, ders[i].size);
  }
  auto key = VerifiedChainCache::key_of(chain);
  for (unsigned i = 0; i < count; ++i) {
    gnutls_free(ders[i].data);
    gnutls_x509_crt_deinit(list[i]);
  }
  gnutls_free(list);
  gnutls_free(pem.data);
  return key;
}

// A chain the server verified before gives the peer's name from the cache
// (no second parse of the certificate): planting a different name under the
// chain's key shows which source the identity came from.
TEST_F(ConnectionPairTest, PeerNameOfAVerifiedChainComesFromTheCache) {
  handshake();
  ASSERT_TRUE(server_);
  EXPECT_EQ(server_->peer().device_id, pki_.device_id())
      << "first handshake: parsed from the certificate";
  const auto key = chain_key_of_file(pki_.device_cert());
  const std::time_t now = std::time(nullptr);
  ASSERT_TRUE(server_tls_->verified_chains().find(key, now))
      << "the first handshake did not cache its chain";
  server_tls_->verified_chains().insert(key, now - 60, now + 60, "Palyra Device planted", now);
  reconnect();
  ASSERT_TRUE(server_);
  EXPECT_EQ(server_->peer().device_id, "planted");
  EXPECT_EQ(server_->peer().fingerprint, pki_.device_fingerprint())
      << "the fingerprint is always computed";
}

// The client side of the same cache: the server chain it verified before
// gives the server's name on the next connection from the same context.
TEST_F(ConnectionPairTest, ServerNameOfAVerifiedChainComesFromTheClientsCache) {
  handshake();
  ASSERT_TRUE(server_);
  EXPECT_EQ(client_->peer().common_name, "localhost");
  const auto key = chain_key_of_file(pki_.server_chain());
  const std::time_t now = std::time(nullptr);
  ASSERT_TRUE(client_tls_->verified_chains().find(key, now))
      << "the first handshake did not cache the chain";
  client_tls_->verified_chains().insert(key, now - 60, now + 60, "planted", now);
  reconnect();
  ASSERT_TRUE(server_);
  EXPECT_EQ(client_->peer().common_name, "planted");
}

}  // namespace
}  // namespace palyra::transport
