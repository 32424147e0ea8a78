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
      << frame << ": "
      << (std::holds_alternative<RequestError>(parsed) ? std::get<RequestError>(parsed).detail
                                                       : "");
  return std::holds_alternative<Request>(parsed) ? std::get<Request>(parsed) : Request{};
}

TEST(Protocol, ValidRequests) {
  EXPECT_EQ(request_of(R"({"protocol_version":1,"method":"node.health"})").method, Method::Health);
  EXPECT_EQ(request_of(R"({"protocol_version":1,"method":"node.health","params":{}})").method,
            Method::Health);
  auto stream = request_of(
      R"({"protocol_version":1,"method":"node.stream_events","resume_from":7,"params":{"follow":true}})");
  EXPECT_EQ(stream.method, Method::StreamEvents);
  EXPECT_EQ(stream.resume_from, 7u);
  EXPECT_TRUE(stream.follow);
  auto null_resume =
      request_of(R"({"protocol_version":1,"method":"node.stream_events","resume_from":null})");
  EXPECT_FALSE(null_resume.resume_from.has_value());
  auto max = request_of(
      R"({"protocol_version":1,"method":"node.stream_events","resume_from":18446744073709551615})");
  EXPECT_EQ(max.resume_from, UINT64_MAX);
  auto publish = request_of(
      R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"door.open","payload":{"a": [1, 2]}}})");
  EXPECT_EQ(publish.method, Method::PublishEvent);
  EXPECT_EQ(publish.event_name, "door.open");
  EXPECT_EQ(publish.event_payload_json, R"({"a":[1,2]})");
}

TEST(Protocol, InvalidRequestCases) {
  for (
      std::string_view frame : {
          "",
          "{",
          "[1,\"node.health\"]",
          "null",
          "42",
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
  EXPECT_EQ(
      error_of(
          R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"a","payload":)" +
          deep + "}}"),
      ProtocolError::InvalidRequest);
}

TEST(Protocol, CheckOrderMatchesInteroperatingPeers) {
  EXPECT_EQ(error_of(R"({"protocol_version":2,"method":"node.health"})"),
            ProtocolError::ProtocolMismatch);
  // A bad shape wins over a bad version; a bad version over a bad method.
  EXPECT_EQ(error_of(R"({"protocol_version":2,"method":"node.health","x":1})"),
            ProtocolError::InvalidRequest);
  EXPECT_EQ(error_of(R"({"protocol_version":2,"method":"node.nope"})"),
            ProtocolError::ProtocolMismatch);
  EXPECT_EQ(error_of(R"({"protocol_version":1,"method":"node.nope"})"),
            ProtocolError::UnsupportedMethod);
  EXPECT_EQ(error_of(R"({"protocol_version":1,"method":"node.nope","params":{"x":1}})"),
            ProtocolError::UnsupportedMethod);
}

TEST(Protocol, InvalidParams) {
  for (
      std::string_view frame : {
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
  EXPECT_EQ(error_of(R"({"protocol_version":1,"method":"node.publish_event","params":{"name":")" +
                     long_name + R"(","payload":1}})"),
            ProtocolError::InvalidParams);
  std::string ok_name(128, 'n');
  EXPECT_EQ(request_of(R"({"protocol_version":1,"method":"node.publish_event","params":{"name":")" +
                       ok_name + R"(","payload":1}})")
                .event_name,
            ok_name);
}

TEST(Protocol, EnrollmentAndRenewalRequests) {
  auto enroll = request_of(
      R"({"protocol_version":1,"method":"node.enroll","params":{"token":"0123abcd.00112233445566778899aabbccddeeff","csr":"PEM","device_id":"n-1"}})");
  EXPECT_EQ(enroll.method, Method::Enroll);
  EXPECT_EQ(enroll.token, "0123abcd.00112233445566778899aabbccddeeff");
  EXPECT_EQ(enroll.csr_pem, "PEM");
  EXPECT_EQ(enroll.device_id, "n-1");
  auto without_id = request_of(
      R"({"protocol_version":1,"method":"node.enroll","params":{"token":"t","csr":"c"}})");
  EXPECT_FALSE(without_id.device_id.has_value());
  auto renew = request_of(
      R"({"protocol_version":1,"method":"node.renew_certificate","params":{"csr":"PEM"}})");
  EXPECT_EQ(renew.method, Method::RenewCertificate);
  EXPECT_EQ(renew.csr_pem, "PEM");
  // The encoders produce what the parser takes.
  EXPECT_EQ(request_of(encode_enroll_request("t", "c\n", std::string("d"))).device_id, "d");
  EXPECT_EQ(request_of(encode_renew_request("line1\nline2")).csr_pem, "line1\nline2");

  const std::string big_csr(kMaxCsrBytes + 1, 'x');
  for (
      const std::string& frame : {
          std::string(R"({"protocol_version":1,"method":"node.enroll"})"),
          std::string(R"({"protocol_version":1,"method":"node.enroll","params":{"token":"t"}})"),
          std::string(R"({"protocol_version":1,"method":"node.enroll","params":{"csr":"c"}})"),
          std::string(
              R"({"protocol_version":1,"method":"node.enroll","params":{"token":"t","csr":"c","extra":1}})"),
          std::string(
              R"({"protocol_version":1,"method":"node.enroll","params":{"token":1,"csr":"c"}})"),
          std::string(
              R"({"protocol_version":1,"method":"node.enroll","params":{"token":"t","csr":"c","device_id":null}})"),
          std::string(
              R"({"protocol_version":1,"method":"node.enroll","params":{"token":"","csr":"c"}})"),
          std::string(R"({"protocol_version":1,"method":"node.renew_certificate"})"),
          std::string(
              R"({"protocol_version":1,"method":"node.renew_certificate","params":{"csr":""}})"),
          std::string(
              R"({"protocol_version":1,"method":"node.renew_certificate","params":{"csr":"c","device_id":"x"}})"),
          encode_renew_request(big_csr),
          encode_enroll_request("t", big_csr, std::nullopt),
      }) {
    EXPECT_EQ(error_of(frame), ProtocolError::InvalidParams) << frame.substr(0, 120);
  }
}

TEST(Protocol, EnrollmentResponsesExactBytesAndParsed) {
  EXPECT_EQ(
      encode_enrolled("n-1", "CERT\n", "CA\n"),
      R"({"protocol_version":1,"kind":"enrolled","ok":true,"device_id":"n-1","certificate":"CERT\n","ca":"CA\n"})");
  EXPECT_EQ(
      encode_certificate("CERT", "CA"),
      R"({"protocol_version":1,"kind":"certificate","ok":true,"certificate":"CERT","ca":"CA"})");
  EXPECT_EQ(encode_error(ProtocolError::EnrollRefused),
            R"({"protocol_version":1,"kind":"error","ok":false,"error":"enroll_refused"})");
  EXPECT_EQ(encode_error(ProtocolError::RenewalRefused),
            R"({"protocol_version":1,"kind":"error","ok":false,"error":"renewal_refused"})");
  auto parsed = parse_response(encode_enrolled("n-1", "CERT\n", "CA\n"));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->kind, "enrolled");
  EXPECT_EQ(parsed->device_id, "n-1");
  EXPECT_EQ(parsed->certificate, "CERT\n");
  EXPECT_EQ(parsed->ca, "CA\n");
}

TEST(Protocol, ExactResponseBytes) {
  EXPECT_EQ(encode_health(true),
            R"({"protocol_version":1,"kind":"health","ok":true,"node_rpc_mtls_required":true})");
  EXPECT_EQ(encode_health(false),
            R"({"protocol_version":1,"kind":"health","ok":true,"node_rpc_mtls_required":false})");
  EXPECT_EQ(encode_published(42),
            R"({"protocol_version":1,"kind":"published","ok":true,"seq":42})");
  EXPECT_EQ(encode_error(ProtocolError::InvalidRequest),
            R"({"protocol_version":1,"kind":"error","ok":false,"error":"invalid_request"})");
  EXPECT_EQ(encode_error(ProtocolError::ResumeGap, 17),
            R"({"protocol_version":1,"kind":"error","ok":false,"seq":17,"error":"resume_gap"})");
  EXPECT_EQ(
      encode_event({3, "door\"open\n", R"({"x":1})", "node-1", 1700000000000}),
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
  EXPECT_FALSE(
      request_of(encode_stream_events_request(std::nullopt, false)).resume_from.has_value());
  auto publish = request_of(encode_publish_request("n\"ame", R"([1,{"b":null}])"));
  EXPECT_EQ(publish.event_name, "n\"ame");
  EXPECT_EQ(publish.event_payload_json, R"([1,{"b":null}])");
}

// params.id of node.publish_event: optional, a string of 1 to 64 bytes,
// anything else invalid_params; absent means no id at all.
TEST(Protocol, PublishIdIsAnOptionalStringOfOneTo64Bytes) {
  const std::string prefix =
      R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"n","payload":1)";
  const std::string end = "}}";
  EXPECT_FALSE(request_of(prefix + end).publish_id.has_value());
  EXPECT_EQ(request_of(prefix + R"(,"id":"order-17")" + end).publish_id, "order-17");
  const std::string longest(64, 'i');
  EXPECT_EQ(request_of(prefix + R"(,"id":")" + longest + "\"" + end).publish_id, longest);
  for (const std::string& bad :
       {std::string(R"(,"id":"")"), R"(,"id":")" + std::string(65, 'i') + "\"",
        std::string(R"(,"id":17)"), std::string(R"(,"id":null)"), std::string(R"(,"id":["a"])"),
        std::string(R"(,"id":"a","other":1)")}) {
    EXPECT_EQ(error_of(prefix + bad + end), ProtocolError::InvalidParams) << bad;
  }
  auto encoded = request_of(encode_publish_request("n", "1", "\"quoted\" id"));
  EXPECT_EQ(encoded.publish_id, "\"quoted\" id");
  EXPECT_FALSE(request_of(encode_publish_request("n", "1")).publish_id.has_value());
}

TEST(Protocol, ResponseParserIgnoresUnknownFields) {
  auto r = parse_response(
      R"({"protocol_version":1,"kind":"event","ok":true,"seq":5,"future":1,"event":{"name":"x"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, "event");
  EXPECT_EQ(r->seq, 5u);
  EXPECT_EQ(r->event_json, R"({"name":"x"})");
  EXPECT_FALSE(parse_response("[]").ok());
  EXPECT_FALSE(parse_response(R"({"kind":"health"})").ok());
}

TEST(Protocol, ResponseParserReadsEveryFieldItKnows) {
  auto r = parse_response(
      " {\"kind\" : \"error\", \"ok\":false ,\"seq\":18446744073709551615,"
      "\"error\":\"resume_gap\",\"node_rpc_mtls_required\":true}\r\n");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->kind, "error");
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->seq, 18446744073709551615u);
  EXPECT_EQ(r->error, "resume_gap");
  EXPECT_EQ(r->node_rpc_mtls_required, true);
  EXPECT_FALSE(r->event_json);
}

// The event value is handed on exactly as the daemon sent it (the CLI and
// the gRPC mapping parse it again), whatever it holds.
TEST(Protocol, ResponseParserKeepsTheEventTextAsSent) {
  const std::string event =
      R"({"name":"a\"b","payload":[1,-2.5e3,{"x":null,"y":[true,false]},"\u00e9\ud83d\ude00"],"device_id":"n","published_at_unix_ms":1})";
  auto r = parse_response(R"({"kind":"event","ok":true,"seq":7,"event":)" + event + "}");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->event_json, event);
  EXPECT_EQ(r->seq, 7u);
}

// What a DOM reader would make of the same frame: escaped keys are the same
// keys, the last duplicate counts, and a field of the wrong type is absent.
TEST(Protocol, ResponseParserAgreesWithAJsonDocumentReading) {
  auto escaped = parse_response(R"({"k\u0069nd":"health","ok":true})");
  ASSERT_TRUE(escaped.ok());
  EXPECT_EQ(escaped->kind, "health");
  auto duplicate = parse_response(R"({"kind":"a","ok":true,"kind":"b","seq":1,"seq":"x"})");
  ASSERT_TRUE(duplicate.ok());
  EXPECT_EQ(duplicate->kind, "b");
  EXPECT_FALSE(duplicate->seq);
  for (const char* seq : {"-1", "1.0", "1e3", "18446744073709551616", "\"5\"", "null"}) {
    auto r = parse_response(std::string(R"({"kind":"event","ok":true,"seq":)") + seq + "}");
    ASSERT_TRUE(r.ok()) << seq;
    EXPECT_FALSE(r->seq) << seq;
  }
  EXPECT_EQ(parse_response(R"({"kind":"event","ok":true,"seq":-0})")->seq, 0u);
  EXPECT_FALSE(parse_response(R"({"kind":"health","ok":true,"error":5})")->error);
  auto wrong_kind = parse_response(R"({"kind":"health","ok":true,"kind":1})");
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_NE(wrong_kind.error().message().find("lacks kind"), std::string::npos);
  EXPECT_FALSE(parse_response(R"({"kind":"health","ok":"true"})").ok());
}

TEST(Protocol, ResponseParserRefusesWhatIsNotStrictJson) {
  const std::string deep =
      std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  for (const std::string& bad : {
           std::string(""),
           std::string("{"),
           std::string("{}x"),
           std::string(R"({"kind":"h","ok":true,})"),
           std::string(R"({"kind":"h" "ok":true})"),
           std::string(R"({kind:"h","ok":true})"),
           std::string(R"({"kind":"h","ok":tru})"),
           std::string(R"({"kind":"h","ok":true,"x":01})"),
           std::string(R"({"kind":"h","ok":true,"x":1.})"),
           std::string(R"({"kind":"h","ok":true,"x":[1,]})"),
           std::string(R"({"kind":"h","ok":true,"x":{"a":1,}})"),
           std::string(R"({"kind":"h","ok":true,"x":"\x"})"),
           std::string("{\"kind\":\"h\",\"ok\":true,\"x\":\"tab\tinside\"}"),
           std::string("{\"kind\":\"h\xc3\",\"ok\":true}"),         // cut UTF-8 sequence
           std::string("{\"kind\":\"\xc0\xaf\",\"ok\":true}"),      // overlong encoding
           std::string("{\"kind\":\"\xed\xa0\x80\",\"ok\":true}"),  // UTF-16 surrogate in UTF-8
           std::string(R"({"kind":"\ud800","ok":true})"),           // lone high surrogate
           std::string(R"({"kind":"\udc00","ok":true})"),           // lone low surrogate
           std::string(R"({"kind":"h","ok":true,"event":)") + deep + "}",
           std::string(R"({"kind":"h","ok":true,"event":1e999})"),  // no double holds it
       }) {
    EXPECT_FALSE(parse_response(bad).ok()) << bad;
  }
  const std::string deepest = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parse_response(R"({"kind":"h","ok":true,"event":)" + deepest + "}").ok());
  EXPECT_TRUE(parse_response(R"({"kind":"h","ok":true,"event":[1e308,1e-999,-0.0]})").ok());
}

}  // namespace
}  // namespace palyra::runtime
