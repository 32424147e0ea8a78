// NodeTransport messages <-> the JSON frames of PROTOCOL.md §4.
//
// The gRPC fallback carries the same calls as QUIC through the same
// handlers (runtime::NodeService), which speak JSON frames. The server turns
// each gRPC request into the request frame a QUIC client would have sent and
// each response frame into a NodeResponse; the client adaptor turns
// NodeResponses back into the exact frames QUIC would have delivered. So
// both transports give byte-identical results to the CLI. Every response
// kind of §4 and §7 maps both ways: health, event, published, certificate
// (certificate, ca), enrolled (device_id, certificate, ca) and error (every
// error name of §4, enroll_refused and renewal_refused included).
#pragma once

#include <string>
#include <string_view>

#include "palyra/common/result.hpp"
#include "palyra/node/v1/node_transport.pb.h"

namespace palyra::fallback {

std::string request_frame(const node::v1::HealthRequest& request);
std::string request_frame(const node::v1::StreamEventsRequest& request);
// payload_json must be valid JSON: when it is not, the caller answers
// invalid_params (is_valid_json) instead of sending this frame.
std::string request_frame(const node::v1::PublishEventRequest& request);
// The token, CSR and device id go into the frame as given: the handler
// checks them (invalid_params, enroll_refused) as it does for QUIC.
std::string request_frame(const node::v1::EnrollRequest& request);
std::string request_frame(const node::v1::RenewCertificateRequest& request);
bool is_valid_json(std::string_view text);

// InvalidArgument when the frame is not a response object. Fields are
// copied as the frame has them; a frame lacking a field its kind needs maps
// to a message lacking it too (and to_response_frame then refuses it).
Result<node::v1::NodeResponse> to_response_message(std::string_view response_frame);
// The frame QUIC would carry for this response, byte for byte.
// InvalidArgument for an unknown kind or error name, or a kind without its
// fields (e.g. "enrolled" without device_id).
Result<std::string> to_response_frame(const node::v1::NodeResponse& response);

}  // namespace palyra::fallback
