// One response frame, then Finish (see unary_sink.hpp).
#include "unary_sink.hpp"

#include "palyra/fallback/mapping.hpp"

namespace palyra::fallback {

bool UnarySink::send(std::string_view frame) {
  if (answered_ || finished_) return false;
  auto message = to_response_message(frame);
  if (!message) {
    status_ = grpc::Status(grpc::StatusCode::INTERNAL, message.error().describe());
  } else {
    *response_ = std::move(*message);
  }
  answered_ = true;
  return true;
}

void UnarySink::finish() {
  if (std::exchange(finished_, true)) return;
  reactor_->Finish(status_);
}

}  // namespace palyra::fallback
