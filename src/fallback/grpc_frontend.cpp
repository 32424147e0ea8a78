#include "palyra/fallback/grpc_frontend.hpp"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <variant>

#include "palyra/fallback/mapping.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/revocation.hpp"
#include "palyra/node/v1/node_transport.grpc.pb.h"
#include "palyra/transport/event_loop.hpp"

namespace palyra::fallback {
namespace {

using node::v1::NodeResponse;

// Refuses revoked client certificates in the TLS handshake, after gRPC has
// verified the chain against the gateway CA.
class RevocationVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit RevocationVerifier(std::shared_ptr<const identity::RevocationIndex> revocation)
      : revocation_(std::move(revocation)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)>, grpc::Status* sync_status) override {
    auto pem = request->peer_cert();
    auto certificate = identity::Certificate::from_pem(std::string_view(pem.data(), pem.size()),
                                                       "gRPC client certificate");
    if (!certificate) {
      *sync_status =
          grpc::Status(grpc::StatusCode::UNAUTHENTICATED, certificate.error().describe());
    } else if (revocation_ && revocation_->is_revoked(certificate->fingerprint())) {
      spdlog::warn("grpc connection refused reason=\"revoked client certificate {} (device '{}')\"",
                   certificate->fingerprint(), certificate->device_id());
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "client certificate revoked");
    } else {
      *sync_status = grpc::Status::OK;
    }
    return true;  // decided synchronously
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  std::shared_ptr<const identity::RevocationIndex> revocation_;
};

// How often the server's certificate, key and CA bundle files are read
// again: a replaced certificate serves new handshakes within this.
constexpr unsigned kTlsFilesRefreshSeconds = 1;

// The caller of one call, from its TLS session.
struct CallerIdentity {
  // Both empty: no client certificate (the enrollment port, or insecure mode).
  std::string fingerprint;
  std::string device_id;
};

// "ipv4:127.0.0.1:5000" or "ipv6:%5B::1%5D:5000" (gRPC's peer URI) ->
// "127.0.0.1:5000" or "[::1]:5000", the form QUIC's callers have.
std::string peer_address(const std::string& uri) {
  std::string_view rest = uri;
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (rest.starts_with(scheme)) rest.remove_prefix(scheme.size());
  }
  std::string out;
  out.reserve(rest.size());
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size()) {
      auto hex = rest.substr(i + 1, 2);
      if (hex == "5B" || hex == "5b") {
        out += '[';
        i += 2;
        continue;
      }
      if (hex == "5D" || hex == "5d") {
        out += ']';
        i += 2;
        continue;
      }
      if (hex == "25") {
        out += '%';
        i += 2;
        continue;
      }
    }
    out += rest[i];
  }
  return out;
}

bool has_client_certificate(grpc::CallbackServerContext* context) {
  auto auth = context->auth_context();
  return auth && !auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME).empty();
}

// The answer to a unary call: exactly one response frame, then Finish.
class UnarySink final : public runtime::CallSink {
 public:
  UnarySink(grpc::ServerUnaryReactor* reactor, NodeResponse* response)
      : reactor_(reactor), response_(response) {}

  bool send(std::string_view frame) override {
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
  void finish() override {
    if (std::exchange(finished_, true)) return;
    reactor_->Finish(status_);
  }
  std::uint64_t backlog_bytes() const override { return 0; }
  void notify_when_writable(std::uint64_t, std::function<void()> resume) override { resume(); }
  bool alive() const override { return !finished_; }

 private:
  grpc::ServerUnaryReactor* reactor_;
  NodeResponse* response_;
  grpc::Status status_ = grpc::Status::OK;
  bool answered_ = false;
  bool finished_ = false;
};

class EventStreamCall;

// The way back over a server-streaming call. The loop thread sends; gRPC's
// threads report finished writes. One write is in flight at a time (gRPC's
// rule); the rest waits here, and NodeService stops adding once the backlog
// passes its budget, as with a QUIC stream.
class StreamSink final : public runtime::CallSink {
 public:
  StreamSink(transport::EventLoop& loop, EventStreamCall* call) : loop_(loop), call_(call) {}

  bool send(std::string_view frame) override;
  void finish() override;
  std::uint64_t backlog_bytes() const override {
    std::lock_guard lock(mutex_);
    return backlog_;
  }
  void notify_when_writable(std::uint64_t low_water, std::function<void()> resume) override {
    {
      std::lock_guard lock(mutex_);
      if (call_ != nullptr && backlog_ >= low_water) {
        low_water_ = low_water;
        resume_ = std::move(resume);
        return;
      }
    }
    resume();
  }
  bool alive() const override {
    std::lock_guard lock(mutex_);
    return call_ != nullptr && !cancelled_;
  }

  // --- called by the reactor, on gRPC's threads ---
  void on_write_done(bool ok);
  void on_cancel();
  void on_done();

 private:
  struct Queued {
    NodeResponse message;
    std::size_t bytes;
  };
  void start_next_write_locked();
  void finish_locked(const grpc::Status& status);
  void wake_locked();

  transport::EventLoop& loop_;
  mutable std::mutex mutex_;
  EventStreamCall* call_;  // null once the call is done
  std::deque<Queued> queue_;
  NodeResponse in_flight_;
  std::size_t in_flight_bytes_ = 0;
  bool writing_ = false;
  bool finish_requested_ = false;
  bool finished_ = false;
  bool cancelled_ = false;
  std::uint64_t backlog_ = 0;
  std::uint64_t low_water_ = 0;
  std::function<void()> resume_;
};

class EventStreamCall final : public grpc::ServerWriteReactor<NodeResponse> {
 public:
  EventStreamCall(transport::EventLoop& loop, std::shared_ptr<GrpcFrontend::CallRegistry> registry,
                  grpc::CallbackServerContext* context, std::string fingerprint)
      : sink_(std::make_shared<StreamSink>(loop, this)),
        registry_(std::move(registry)),
        context_(context),
        fingerprint_(std::move(fingerprint)) {
    registry_->add(fingerprint_, context_);
  }
  std::shared_ptr<StreamSink> sink() const { return sink_; }

  void OnWriteDone(bool ok) override { sink_->on_write_done(ok); }
  void OnCancel() override { sink_->on_cancel(); }
  void OnDone() override {
    registry_->remove(fingerprint_, context_);
    sink_->on_done();
    delete this;
  }

 private:
  std::shared_ptr<StreamSink> sink_;
  std::shared_ptr<GrpcFrontend::CallRegistry> registry_;
  grpc::CallbackServerContext* context_;
  std::string fingerprint_;
};

bool StreamSink::send(std::string_view frame) {
  auto message = to_response_message(frame);
  if (!message) {
    spdlog::error("grpc stream: cannot map a response frame: {}", message.error().describe());
    return false;
  }
  std::lock_guard lock(mutex_);
  if (call_ == nullptr || cancelled_ || finish_requested_) return false;
  backlog_ += frame.size();
  queue_.push_back(Queued{std::move(*message), frame.size()});
  start_next_write_locked();
  return true;
}

void StreamSink::finish() {
  std::lock_guard lock(mutex_);
  if (finish_requested_) return;
  finish_requested_ = true;
  if (!writing_) finish_locked(grpc::Status::OK);
}

void StreamSink::start_next_write_locked() {
  if (writing_ || queue_.empty() || call_ == nullptr || finished_) return;
  in_flight_ = std::move(queue_.front().message);
  in_flight_bytes_ = queue_.front().bytes;
  queue_.pop_front();
  writing_ = true;
  call_->StartWrite(&in_flight_);
}

void StreamSink::finish_locked(const grpc::Status& status) {
  if (finished_ || call_ == nullptr) return;
  finished_ = true;
  call_->Finish(status);
}

void StreamSink::wake_locked() {
  if (!resume_) return;
  if (cancelled_ || backlog_ < low_water_) {
    loop_.post(std::exchange(resume_, nullptr));
  }
}

void StreamSink::on_write_done(bool ok) {
  std::lock_guard lock(mutex_);
  writing_ = false;
  backlog_ -= in_flight_bytes_;
  in_flight_bytes_ = 0;
  if (!ok) {
    // The client is gone: nothing more will be written.
    cancelled_ = true;
    queue_.clear();
    backlog_ = 0;
    finish_locked(grpc::Status::CANCELLED);
  } else if (!queue_.empty()) {
    start_next_write_locked();
  } else if (finish_requested_) {
    finish_locked(grpc::Status::OK);
  }
  wake_locked();
}

void StreamSink::on_cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  queue_.clear();
  if (!writing_) finish_locked(grpc::Status::CANCELLED);
  wake_locked();
}

void StreamSink::on_done() {
  std::lock_guard lock(mutex_);
  call_ = nullptr;
  cancelled_ = true;
  wake_locked();
}

}  // namespace

class NodeTransportService final : public node::v1::NodeTransport::CallbackService {
 public:
  NodeTransportService(transport::EventLoop& loop, runtime::NodeService& service,
                       std::shared_ptr<const identity::RevocationIndex> revocation,
                       bool require_client_auth,
                       std::shared_ptr<GrpcFrontend::CallRegistry> registry)
      : loop_(loop),
        service_(service),
        revocation_(std::move(revocation)),
        require_client_auth_(require_client_auth),
        registry_(std::move(registry)) {}

  grpc::ServerUnaryReactor* Health(grpc::CallbackServerContext* context,
                                   const node::v1::HealthRequest* request,
                                   NodeResponse* response) override {
    return unary(context, request_frame(*request), response);
  }

  grpc::ServerUnaryReactor* PublishEvent(grpc::CallbackServerContext* context,
                                         const node::v1::PublishEventRequest* request,
                                         NodeResponse* response) override {
    if (!is_valid_json(request->payload_json())) {
      // The JSON request would carry the payload as a value; as text it
      // must parse, or the params do not fit the method.
      auto* reactor = context->DefaultReactor();
      auto authorized = authorize(context);
      if (auto* refused = std::get_if<grpc::Status>(&authorized)) {
        reactor->Finish(*refused);
        return reactor;
      }
      *response = std::move(to_response_message(
                                runtime::encode_error(runtime::ProtocolError::InvalidParams)))
                      .value();
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    return unary(context, request_frame(*request), response);
  }

  grpc::ServerWriteReactor<NodeResponse>* StreamEvents(
      grpc::CallbackServerContext* context, const node::v1::StreamEventsRequest* request) override {
    auto authorized = authorize(context);
    if (auto* refused = std::get_if<grpc::Status>(&authorized)) {
      // A reactor that only reports the refusal.
      class Refusal final : public grpc::ServerWriteReactor<NodeResponse> {
       public:
        explicit Refusal(const grpc::Status& status) { Finish(status); }
        void OnDone() override { delete this; }
      };
      return new Refusal(*refused);
    }
    auto& caller = std::get<CallerIdentity>(authorized);
    auto* call = new EventStreamCall(loop_, registry_, context, caller.fingerprint);
    dispatch(request_frame(*request),
             runtime::Caller{caller.device_id, peer_address(context->peer())}, call->sink());
    return call;
  }

  // node.renew_certificate: like every node method, for the caller's
  // certificate (authorize()).
  grpc::ServerUnaryReactor* RenewCertificate(grpc::CallbackServerContext* context,
                                             const node::v1::RenewCertificateRequest* request,
                                             NodeResponse* response) override {
    return unary(context, request_frame(*request), response);
  }

  // node.enroll, for callers without a client certificate: those of the
  // enrollment port (which requests none), or of the node port in insecure
  // mode. A call with a certificate came in on the node port: it is handed
  // on as a node call, and NodeService answers unsupported_method exactly as
  // for node.enroll on QUIC's palyra-quic-v1 ALPN (after the usual checks of
  // the certificate, so a revoked one still gets UNAUTHENTICATED).
  grpc::ServerUnaryReactor* Enroll(grpc::CallbackServerContext* context,
                                   const node::v1::EnrollRequest* request,
                                   NodeResponse* response) override {
    if (has_client_certificate(context)) return unary(context, request_frame(*request), response);
    auto* reactor = context->DefaultReactor();
    dispatch(request_frame(*request), runtime::Caller{"", peer_address(context->peer()), true},
             std::make_shared<UnarySink>(reactor, response));
    return reactor;
  }

 private:
  grpc::ServerUnaryReactor* unary(grpc::CallbackServerContext* context, std::string frame,
                                  NodeResponse* response) {
    auto* reactor = context->DefaultReactor();
    auto authorized = authorize(context);
    if (auto* refused = std::get_if<grpc::Status>(&authorized)) {
      reactor->Finish(*refused);
      return reactor;
    }
    dispatch(std::move(frame),
             runtime::Caller{std::get<CallerIdentity>(authorized).device_id,
                             peer_address(context->peer())},
             std::make_shared<UnarySink>(reactor, response));
    return reactor;
  }

  // Every call re-checks the certificate against the current revocation
  // index: a connection opened before a revocation gets no more data. A call
  // without a certificate is UNAUTHENTICATED unless in insecure mode: so
  // every method but Enroll is refused on the enrollment port.
  std::variant<CallerIdentity, grpc::Status> authorize(grpc::CallbackServerContext* context) {
    auto auth = context->auth_context();
    std::vector<grpc::string_ref> pems;
    if (auth) pems = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    if (pems.empty()) {
      if (require_client_auth_) {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "a client certificate is required");
      }
      return CallerIdentity{};
    }
    auto certificate = identity::Certificate::from_pem(
        std::string_view(pems.front().data(), pems.front().size()), "gRPC client certificate");
    if (!certificate) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, certificate.error().describe());
    }
    std::string fingerprint = certificate->fingerprint();
    if (revocation_ && revocation_->is_revoked(fingerprint)) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "client certificate revoked");
    }
    return CallerIdentity{std::move(fingerprint), certificate->device_id()};
  }

  void dispatch(std::string frame, runtime::Caller caller,
                std::shared_ptr<runtime::CallSink> sink) {
    loop_.post(
        [&service = service_, frame = std::move(frame), caller = std::move(caller),
         sink = std::move(sink)]() mutable { service.handle(frame, caller, std::move(sink)); });
  }

  transport::EventLoop& loop_;
  runtime::NodeService& service_;
  std::shared_ptr<const identity::RevocationIndex> revocation_;
  bool require_client_auth_;
  std::shared_ptr<GrpcFrontend::CallRegistry> registry_;
};

void GrpcFrontend::CallRegistry::add(const std::string& fingerprint,
                                     grpc::CallbackServerContext* call) {
  std::lock_guard lock(mutex_);
  calls_[fingerprint].insert(call);
}

void GrpcFrontend::CallRegistry::remove(const std::string& fingerprint,
                                        grpc::CallbackServerContext* call) {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(fingerprint);
  if (it == calls_.end()) return;
  it->second.erase(call);
  if (it->second.empty()) calls_.erase(it);
}

std::size_t GrpcFrontend::CallRegistry::cancel_if(
    const std::function<bool(const std::string&)>& revoked) {
  std::lock_guard lock(mutex_);
  std::size_t cancelled = 0;
  for (auto& [fingerprint, calls] : calls_) {
    if (fingerprint.empty() || !revoked(fingerprint)) continue;
    for (auto* call : calls) call->TryCancel();
    cancelled += calls.size();
  }
  return cancelled;
}

void GrpcFrontend::CallRegistry::cancel_all() {
  std::lock_guard lock(mutex_);
  for (auto& [fingerprint, calls] : calls_) {
    for (auto* call : calls) call->TryCancel();
  }
}

Result<std::unique_ptr<GrpcFrontend>> GrpcFrontend::start(transport::EventLoop& loop,
                                                          const std::string& address,
                                                          const std::string& enroll_address,
                                                          const transport::ServerTlsConfig& tls,
                                                          runtime::NodeService& service) {
  // Read once here for a clear error at start; the provider reads them again
  // (and again whenever they change) on its own, and only logs a failure.
  if (auto ca = identity::Certificate::chain_from_pem_file(tls.ca_file); !ca) {
    return std::move(ca).error();
  }
  if (auto chain = identity::Certificate::chain_from_pem_file(tls.cert_chain_file); !chain) {
    return std::move(chain).error();
  }
  if (auto key = identity::PrivateKey::from_pem_file(tls.key_file); !key) {
    return std::move(key).error();
  }

  // Watches the three files: a certificate, key or CA bundle replaced on
  // disk (reissue, rotation) is used by new handshakes within
  // kTlsFilesRefreshSeconds, without a restart; connections keep theirs.
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file.string(), tls.cert_chain_file.string(), tls.ca_file.string(),
      kTlsFilesRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(tls.require_client_auth
                                    ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                    : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (tls.require_client_auth) {
    options.set_certificate_verifier(
        grpc::experimental::ExternalCertificateVerifier::Create<RevocationVerifier>(
            tls.revocation));
  }

  std::unique_ptr<GrpcFrontend> frontend(new GrpcFrontend());
  frontend->revocation_ = tls.revocation;
  frontend->service_ = std::make_unique<NodeTransportService>(
      loop, service, tls.revocation, tls.require_client_auth, frontend->registry_);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::experimental::TlsServerCredentials(options), &port);
  // The enrollment port: the same server certificate, no client certificate
  // asked for (a node that enrolls has none yet).
  int enroll_port = 0;
  if (!enroll_address.empty()) {
    grpc::experimental::TlsServerCredentialsOptions enroll_options(provider);
    enroll_options.watch_identity_key_cert_pairs();
    enroll_options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    builder.AddListeningPort(
        enroll_address, grpc::experimental::TlsServerCredentials(enroll_options), &enroll_port);
  }
  builder.RegisterService(frontend->service_.get());
  // The same limits as QUIC: 32 concurrent calls per connection, frames of
  // at most 512 KiB (a request message is smaller than its JSON frame).
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 32);
  builder.SetMaxReceiveMessageSize(512 * 1024);
  frontend->server_ = builder.BuildAndStart();
  if (!frontend->server_ || port == 0 || (!enroll_address.empty() && enroll_port == 0)) {
    const bool enroll_failed = port != 0 && !enroll_address.empty() && enroll_port == 0;
    return Error(
        Errc::EndpointBindFailed,
        fmt::format("cannot listen for gRPC{} on {} (address in use or not local?)",
                    enroll_failed ? " enrollment" : "", enroll_failed ? enroll_address : address));
  }
  frontend->local_address_ = address.substr(0, address.rfind(':') + 1) + std::to_string(port);
  if (!enroll_address.empty()) {
    frontend->enroll_address_ =
        enroll_address.substr(0, enroll_address.rfind(':') + 1) + std::to_string(enroll_port);
  }
  return frontend;
}

GrpcFrontend::~GrpcFrontend() {
  shutdown();
}

std::size_t GrpcFrontend::cancel_revoked_calls() {
  if (!revocation_) return 0;
  return registry_->cancel_if(
      [this](const std::string& fingerprint) { return revocation_->is_revoked(fingerprint); });
}

void GrpcFrontend::shutdown() {
  if (std::exchange(shut_down_, true) || !server_) return;
  registry_->cancel_all();
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
}

}  // namespace palyra::fallback
