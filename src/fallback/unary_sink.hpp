// The way back over a unary gRPC call (Health, PublishEvent, Enroll,
// RenewCertificate): the runtime::CallSink NodeService answers into. It
// takes exactly one response frame, then ends the call. It never holds a
// backlog: the response is the call's single message, written by gRPC
// after Finish.
#pragma once

#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include "palyra/node/v1/node_transport.pb.h"
#include "palyra/runtime/node_service.hpp"

namespace palyra::fallback {

class UnarySink final : public runtime::CallSink {
 public:
  // `reactor` and `response` are the call's; both live until Finish.
  UnarySink(grpc::ServerUnaryReactor* reactor, node::v1::NodeResponse* response)
      : reactor_(reactor), response_(response) {}

  // Takes the first frame as the response (INTERNAL if it is not one
  // NodeResponse can carry); false for any later one.
  bool send(std::string_view frame) override;
  void finish() override;
  std::uint64_t backlog_bytes() const override { return 0; }
  void notify_when_writable(std::uint64_t, std::function<void()> resume) override { resume(); }
  bool alive() const override { return !finished_; }

 private:
  grpc::ServerUnaryReactor* reactor_;
  node::v1::NodeResponse* response_;
  grpc::Status status_ = grpc::Status::OK;
  bool answered_ = false;
  bool finished_ = false;
};

}  // namespace palyra::fallback
