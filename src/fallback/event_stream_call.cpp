// gRPC's server-streaming reactor in front of a StreamSink (see event_stream_call.hpp).
#include "event_stream_call.hpp"

namespace palyra::fallback {

EventStreamCall::EventStreamCall(transport::EventLoop& loop,
                                 std::shared_ptr<GrpcFrontend::CallRegistry> registry,
                                 grpc::CallbackServerContext* context, std::string fingerprint)
    : sink_(std::make_shared<StreamSink>(loop, static_cast<ResponseWriter*>(this))),
      registry_(std::move(registry)),
      context_(context),
      fingerprint_(std::move(fingerprint)) {
  registry_->add(fingerprint_, context_);
}

void EventStreamCall::OnWriteDone(bool ok) {
  sink_->on_write_done(ok);
}

void EventStreamCall::OnCancel() {
  sink_->on_cancel();
}

// gRPC calls nothing on this reactor after OnDone: the sink, which
// NodeService may still hold, forgets it before it goes.
void EventStreamCall::OnDone() {
  registry_->remove(fingerprint_, context_);
  sink_->on_done();
  delete this;
}

void EventStreamCall::start_write(const node::v1::NodeResponse* message) {
  StartWrite(message);
}

void EventStreamCall::finish(const grpc::Status& status) {
  Finish(status);
}

}  // namespace palyra::fallback
