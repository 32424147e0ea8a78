#include "call_counting.hpp"

#include <grpcpp/grpcpp.h>

#include <array>
#include <string_view>

namespace palyra::fallback {
namespace {

constexpr std::string_view kServicePrefix = "/palyra.node.v1.NodeTransport/";

class CountingInterceptor : public grpc::experimental::Interceptor {
 public:
  CountingInterceptor(std::string method, std::shared_ptr<CallCounts> counts)
      : method_(std::move(method)), counts_(std::move(counts)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      counts_->record(method_, static_cast<int>(methods->GetSendStatus().error_code()));
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  std::shared_ptr<CallCounts> counts_;
};

class CountingFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingFactory(std::shared_ptr<CallCounts> counts) : counts_(std::move(counts)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CountingInterceptor(info->method() != nullptr ? info->method() : "", counts_);
  }

 private:
  std::shared_ptr<CallCounts> counts_;
};

}  // namespace

void CallCounts::record(std::string_view full_method, int status_code) {
  std::string method = full_method.starts_with(kServicePrefix)
                           ? std::string(full_method.substr(kServicePrefix.size()))
                           : std::string("other");
  std::lock_guard lock(mutex_);
  ++tally_[{std::move(method), grpc_status_name(status_code)}];
}

CallCounts::Tally CallCounts::snapshot() const {
  std::lock_guard lock(mutex_);
  return tally_;
}

const char* grpc_status_name(int status_code) noexcept {
  static constexpr std::array<const char*, 17> kNames = {"OK",
                                                         "CANCELLED",
                                                         "UNKNOWN",
                                                         "INVALID_ARGUMENT",
                                                         "DEADLINE_EXCEEDED",
                                                         "NOT_FOUND",
                                                         "ALREADY_EXISTS",
                                                         "PERMISSION_DENIED",
                                                         "RESOURCE_EXHAUSTED",
                                                         "FAILED_PRECONDITION",
                                                         "ABORTED",
                                                         "OUT_OF_RANGE",
                                                         "UNIMPLEMENTED",
                                                         "INTERNAL",
                                                         "UNAVAILABLE",
                                                         "DATA_LOSS",
                                                         "UNAUTHENTICATED"};
  if (status_code < 0 || status_code >= static_cast<int>(kNames.size())) return "UNKNOWN";
  return kNames[static_cast<std::size_t>(status_code)];
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> call_counting(
    std::shared_ptr<CallCounts> counts) {
  return std::make_unique<CountingFactory>(std::move(counts));
}

}  // namespace palyra::fallback
