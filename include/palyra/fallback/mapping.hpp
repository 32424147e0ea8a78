// NodeTransport messages <-> the JSON frames of PROTOCOL.md §4.
//
// The gRPC fallback carries the same calls as QUIC through the same
// handlers (runtime::NodeService), which speak JSON frames. The server turns
// each gRPC request into the request frame a QUIC client would have sent and
// each response frame into a NodeResponse; the client adaptor turns
// NodeResponses back into the exact frames QUIC would have delivered. So
// both transports give byte-identical results to the CLI.
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
bool is_valid_json(std::string_view text);

// InvalidArgument when the frame is not a response object.
Result<node::v1::NodeResponse> to_response_message(std::string_view response_frame);
// The frame QUIC would carry for this response, byte for byte.
Result<std::string> to_response_frame(const node::v1::NodeResponse& response);

}  // namespace palyra::fallback
