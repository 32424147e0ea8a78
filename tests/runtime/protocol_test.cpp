#include "palyra/runtime/protocol.hpp"

#include <gtest/gtest.h>

namespace palyra::runtime {
namespace {

ProtocolError error_of(std::string_view frame) {
  auto parsed = parse_request(frame);
  EXPECT_TRUE(std::holds_alternative<RequestError>(parsed)) << frame;
  if (!std::holds_alternative<RequestError>(parsed)) return ProtocolError::StreamFailure;
  return std::get<RequestError>(parsed).kind;
}

Request request_of(std::string_view frame) {
  auto parsed = parse_request(frame);
  EXPECT_TRUE(std::holds_alternative<Request>(parsed))
      << frame << ": " << (std::holds_alternative<RequestError>(parsed) ? std::get<RequestError>(parsed).detail : "");
  return std::holds_alternative<Request>(parsed) ? std::get<Request>(parsed) : Request{};
}

TEST(Protocol, ValidRequests) {
  EXPECT_EQ(request_of(R"({"protocol_version":1,"method":"node.health"})").method, Method::Health);
  EXPECT_EQ(request_of(R"({"protocol_version":1,"method":"node.health","params":{}})").method, Method::Health);
  auto stream = request_of(R"({"protocol_version":1,"method":"node.stream_events","resume_from":7,"params":{"follow":true}})");
  EXPECT_EQ(stream.method, Method::StreamEvents);
  EXPECT_EQ(stream.resume_from, 7u);
  EXPECT_TRUE(stream.follow);
  auto null_resume = request_of(R"({"protocol_version":1,"method":"node.stream_events","resume_from":null})");
  EXPECT_FALSE(null_resume.resume_from.has_value());
  auto max = request_of(R"({"protocol_version":1,"method":"node.stream_events","resume_from":18446744073709551615})");
  EXPECT_EQ(max.resume_from, UINT64_MAX);
  auto publish = request_of(R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"door.open","payload":{"a": [1, 2]}}})");
  EXPECT_EQ(publish.method, Method::PublishEvent);
  EXPECT_EQ(publish.event_name, "door.open");
  EXPECT_EQ(publish.event_payload_json, R"({"a":[1,2]})");
}

TEST(Protocol, InvalidRequestCases) {
  for (std::string_view frame : {
           "", "{", "[1,\"node.health\"]", "null", "42",
           R"({"protocol_version":1,"method":"node.health","x":true})",
           R"({"protocol_version":1,"method":"node.health","method":"node.health"})",
           R"({"method":"node.health"})",
           R"({"protocol_version":1})",
           R"({"protocol_version":"1","method":"node.health"})",
           R"({"protocol_version":1.0,"method":"node.health"})",
           R"({"protocol_version":-1,"method":"node.health"})",
           R"({"protocol_version":65536,"method":"node.health"})",
           R"({"protocol_version":1,"method":7})",
           R"({"protocol_version":1,"method":"node.stream_events","resume_from":-1})",
           R"({"protocol_version":1,"method":"node.stream_events","resume_from":"3"})",
           R"({"protocol_version":1,"method":"node.health","params":[]})",
           R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"a","payload":1,"name":"b"}})",
       }) {
    EXPECT_EQ(error_of(frame), ProtocolError::InvalidRequest) << frame;
  }
  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_EQ(error_of(R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"a","payload":)" + deep + "}}"),
            ProtocolError::InvalidRequest);
}

TEST(Protocol, CheckOrderMatchesInteroperatingPeers) {
  EXPECT_EQ(error_of(R"({"protocol_version":2,"method":"node.health"})"), ProtocolError::ProtocolMismatch);
  // A bad shape wins over a bad version; a bad version over a bad method.
  EXPECT_EQ(error_of(R"({"protocol_version":2,"method":"node.health","x":1})"), ProtocolError::InvalidRequest);
  EXPECT_EQ(error_of(R"({"protocol_version":2,"method":"node.nope"})"), ProtocolError::ProtocolMismatch);
  EXPECT_EQ(error_of(R"({"protocol_version":1,"method":"node.nope"})"), ProtocolError::UnsupportedMethod);
  EXPECT_EQ(error_of(R"({"protocol_version":1,"method":"node.nope","params":{"x":1}})"), ProtocolError::UnsupportedMethod);
}

TEST(Protocol, InvalidParams) {
  for (std::string_view frame : {
           R"({"protocol_version":1,"method":"node.health","params":{"x":1}})",
           R"({"protocol_version":1,"method":"node.stream_events","params":{"follow":"yes"}})",
           R"({"protocol_version":1,"method":"node.stream_events","params":{"other":true}})",
           R"({"protocol_version":1,"method":"node.publish_event"})",
           R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"a"}})",
           R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"","payload":1}})",
           R"({"protocol_version":1,"method":"node.publish_event","params":{"name":5,"payload":1}})",
           R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"a","payload":1,"x":2}})",
       }) {
    EXPECT_EQ(error_of(frame), ProtocolError::InvalidParams) << frame;
  }
  std::string long_name(129, 'n');
  EXPECT_EQ(error_of(R"({"protocol_version":1,"method":"node.publish_event","params":{"name":")" + long_name + R"(","payload":1}})"),
            ProtocolError::InvalidParams);
  std::string ok_name(128, 'n');
  EXPECT_EQ(request_of(R"({"protocol_version":1,"method":"node.publish_event","params":{"name":")" + ok_name + R"(","payload":1}})").event_name,
            ok_name);
}

TEST(Protocol, ExactResponseBytes) {
  EXPECT_EQ(encode_health(true), R"({"protocol_version":1,"kind":"health","ok":true,"node_rpc_mtls_required":true})");
  EXPECT_EQ(encode_health(false), R"({"protocol_version":1,"kind":"health","ok":true,"node_rpc_mtls_required":false})");
  EXPECT_EQ(encode_published(42), R"({"protocol_version":1,"kind":"published","ok":true,"seq":42})");
  EXPECT_EQ(encode_error(ProtocolError::InvalidRequest), R"({"protocol_version":1,"kind":"error","ok":false,"error":"invalid_request"})");
  EXPECT_EQ(encode_error(ProtocolError::ResumeGap, 17), R"({"protocol_version":1,"kind":"error","ok":false,"seq":17,"error":"resume_gap"})");
  EXPECT_EQ(encode_event({3, "door\"open\n", R"({"x":1})", "node-1", 1700000000000}),
            R"({"protocol_version":1,"kind":"event","ok":true,"seq":3,"event":{"name":"door\"open\n","payload":{"x":1},"device_id":"node-1","published_at_unix_ms":1700000000000}})");
  std::string s;
  append_json_string(s, std::string("\x01\\\xc3\xa9", 4));
  EXPECT_EQ(s, "\"\\u0001\\\\\xc3\xa9\"");
}

TEST(Protocol, RequestEncodersRoundTrip) {
  EXPECT_EQ(request_of(encode_health_request()).method, Method::Health);
  auto stream = request_of(encode_stream_events_request(9, true));
  EXPECT_EQ(stream.resume_from, 9u);
  EXPECT_TRUE(stream.follow);
  EXPECT_FALSE(request_of(encode_stream_events_request(std::nullopt, false)).resume_from.has_value());
  auto publish = request_of(encode_publish_request("n\"ame", R"([1,{"b":null}])"));
  EXPECT_EQ(publish.event_name, "n\"ame");
  EXPECT_EQ(publish.event_payload_json, R"([1,{"b":null}])");
}

TEST(Protocol, ResponseParserIgnoresUnknownFields) {
  auto r = parse_response(R"({"protocol_version":1,"kind":"event","ok":true,"seq":5,"future":1,"event":{"name":"x"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, "event");
  EXPECT_EQ(r->seq, 5u);
  EXPECT_EQ(r->event_json, R"({"name":"x"})");
  EXPECT_FALSE(parse_response("[]").ok());
  EXPECT_FALSE(parse_response(R"({"kind":"health"})").ok());
}

}  // namespace
}  // namespace palyra::runtime
