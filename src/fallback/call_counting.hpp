// A server interceptor that counts each call once, when its status is sent.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "palyra/fallback/call_counts.hpp"

namespace palyra::fallback {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> call_counting(
    std::shared_ptr<CallCounts> counts);

}  // namespace palyra::fallback
