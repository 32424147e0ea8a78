// One StreamEvents call (node.stream_events) on gRPC: the server-streaming
// reactor that carries its StreamSink's writes to gRPC. It is listed in the
// frontend's CallRegistry under the caller's certificate fingerprint while
// it runs, so a revocation can cancel it, and deletes itself when gRPC
// reports the call done.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <memory>
#include <string>

#include "palyra/fallback/grpc_frontend.hpp"
#include "palyra/node/v1/node_transport.pb.h"
#include "stream_sink.hpp"

namespace palyra::fallback {

class EventStreamCall final : public grpc::ServerWriteReactor<node::v1::NodeResponse>,
                              private ResponseWriter {
 public:
  // Created with `new` and returned to gRPC, which then owns it.
  EventStreamCall(transport::EventLoop& loop, std::shared_ptr<GrpcFrontend::CallRegistry> registry,
                  grpc::CallbackServerContext* context, std::string fingerprint);
  // The sink NodeService sends the call's frames to.
  std::shared_ptr<StreamSink> sink() const { return sink_; }

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  ~EventStreamCall() override = default;
  void start_write(const node::v1::NodeResponse* message) override;
  void finish(const grpc::Status& status) override;

  std::shared_ptr<StreamSink> sink_;
  std::shared_ptr<GrpcFrontend::CallRegistry> registry_;
  grpc::CallbackServerContext* context_;
  std::string fingerprint_;
};

}  // namespace palyra::fallback
