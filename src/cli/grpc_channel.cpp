#include "grpc_channel.hpp"

#include <grpcpp/grpcpp.h>

#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/fingerprint.hpp"

namespace palyra::cli {

Result<GrpcChannel> open_grpc_channel(const ResolvedConnection& c) {
  grpc::ChannelArguments arguments;
  arguments.SetSslTargetNameOverride(c.tls.server_name);
  GrpcChannel out;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (c.tls.ca_spki_sha256) {
    auto hash = identity::normalize_fingerprint(*c.tls.ca_spki_sha256);
    if (!hash) {
      return Error(Errc::TlsConfigurationFailed,
                   "invalid CA hash in the enrollment token: " + hash.error().message());
    }
    out.refusal = std::make_shared<fallback::HandshakeRefusal>();
    credentials = fallback::enrollment_channel_credentials(*hash, c.tls.server_name, out.refusal);
  } else {
    grpc::SslCredentialsOptions options;
    auto ca = read_file(c.tls.ca_file);
    if (!ca) return std::move(ca).error();
    options.pem_root_certs = std::move(*ca);
    if (c.tls.cert_file && c.tls.key_file) {
      auto cert = read_file(*c.tls.cert_file);
      if (!cert) return std::move(cert).error();
      auto key = read_file(*c.tls.key_file);
      if (!key) return std::move(key).error();
      options.pem_cert_chain = std::move(*cert);
      options.pem_private_key = std::move(*key);
    }
    credentials = grpc::SslCredentials(options);
  }
  out.channel = grpc::CreateCustomChannel(c.grpc_address, credentials, arguments);
  out.stub = node::v1::NodeTransport::NewStub(out.channel);
  return out;
}

Result<std::unique_ptr<node::v1::NodeTransport::Stub>> open_grpc_stub(const ResolvedConnection& c) {
  auto channel = open_grpc_channel(c);
  if (!channel) return std::move(channel).error();
  return std::move(channel->stub);
}

}  // namespace palyra::cli
