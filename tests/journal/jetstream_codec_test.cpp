// How events are carried in JetStream messages and how a delivered message
// names its stream sequence: no server needed, messages are built locally.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <string>

#include "jetstream/codec.hpp"

namespace palyra::journal::jetstream {
namespace {

// The library must be open before messages are made (a connection opens it).
class JetStreamCodec : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_EQ(nats_Open(-1), NATS_OK); }
};

NatsPtr<natsMsg> message(const std::string& body, const char* reply = nullptr) {
  natsMsg* raw = nullptr;
  EXPECT_EQ(natsMsg_Create(&raw, "palyra.journal.TEST", reply, body.data(),
                           static_cast<int>(body.size())),
            NATS_OK);
  return NatsPtr<natsMsg>(raw);
}

TEST_F(JetStreamCodec, AnEventRoundTripsThroughTheBody) {
  const NewEvent event{"door\nopen \"x\"", R"({"open":true})", "node-7", std::nullopt};
  auto msg = encode_event("palyra.journal.TEST", event, 1733550000123);
  ASSERT_TRUE(msg) << msg.error().describe();
  // Everything in the body, no headers for a reader to parse.
  const char* value = nullptr;
  EXPECT_NE(natsMsgHeader_Get(msg->get(), "Palyra-Name", &value), NATS_OK);
  EXPECT_EQ(std::string(natsMsg_GetData(msg->get()), 20), "P1 1733550000123 13 ");

  auto view = view_event(msg->get(), 42);
  ASSERT_TRUE(view) << view.error().describe();
  EXPECT_EQ(view->seq, 42u);
  EXPECT_EQ(view->name, event.name);
  EXPECT_EQ(view->payload_json, event.payload_json);
  EXPECT_EQ(view->device_id, event.device_id);
  EXPECT_EQ(view->published_at_unix_ms, 1733550000123);
}

TEST_F(JetStreamCodec, AnEventWithoutADeviceRoundTrips) {
  const NewEvent event{"boot", "[]", "", std::nullopt};
  auto msg = encode_event("palyra.journal.TEST", event, 5);
  ASSERT_TRUE(msg);
  auto view = view_event(msg->get(), 1);
  ASSERT_TRUE(view) << view.error().describe();
  EXPECT_EQ(view->name, "boot");
  EXPECT_EQ(view->device_id, "");
  EXPECT_EQ(view->payload_json, "[]");
}

TEST_F(JetStreamCodec, MessagesInTheEarlierHeaderFormatAreStillRead) {
  auto msg = message(R"({"t":21})");
  ASSERT_EQ(natsMsgHeader_Set(msg.get(), "Palyra-Name", "temp"), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Set(msg.get(), "Palyra-Device", "node-1"), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Set(msg.get(), "Palyra-Published-At", "1700000000000"), NATS_OK);
  auto view = view_event(msg.get(), 9);
  ASSERT_TRUE(view) << view.error().describe();
  EXPECT_EQ(view->name, "temp");
  EXPECT_EQ(view->device_id, "node-1");
  EXPECT_EQ(view->payload_json, R"({"t":21})");
  EXPECT_EQ(view->published_at_unix_ms, 1700000000000);
}

TEST_F(JetStreamCodec, WhatIsNotAnEventIsRefusedWithItsSeq) {
  for (const std::string body :
       {"{}", "P1 x 1 0\na", "P1 1 0 0\n", "P1 1 5 0\nabc", "P1 1 2 9\nabc", "P1 1 1 1"}) {
    auto msg = message(body);
    auto view = view_event(msg.get(), 77);
    ASSERT_FALSE(view) << body;
    EXPECT_EQ(view.error().code(), Errc::StorageFailed);
    EXPECT_NE(view.error().describe().find("stream message 77"), std::string::npos)
        << view.error().describe();
  }
}

TEST_F(JetStreamCodec, TheStreamSeqComesFromEitherFormOfTheReplySubject) {
  auto v1 = message("x", "$JS.ACK.PALYRA_EVENTS.c1.1.4711.12.1733550000000000000.3");
  auto seq = delivered_stream_seq(v1.get());
  ASSERT_TRUE(seq) << seq.error().describe();
  EXPECT_EQ(*seq, 4711u);

  auto v2 = message("x", "$JS.ACK.hub.ACCHASH.PALYRA_EVENTS.c1.2.99.12.1733550000000000000.0.tok");
  seq = delivered_stream_seq(v2.get());
  ASSERT_TRUE(seq) << seq.error().describe();
  EXPECT_EQ(*seq, 99u);

  for (const char* reply : {"", "_INBOX.abc", "$JS.ACK.S.c.1.x.1.1.0", "$JS.ACK.S.c.1.0.1.1.0",
                            "$JS.NAK.S.c.1.5.1.1.0"}) {
    auto msg = message("x", *reply == '\0' ? nullptr : reply);
    EXPECT_FALSE(delivered_stream_seq(msg.get())) << reply;
  }
}

}  // namespace
}  // namespace palyra::journal::jetstream
