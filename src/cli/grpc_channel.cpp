#include "grpc_channel.hpp"

#include <grpcpp/grpcpp.h>

#include "palyra/common/atomic_file.hpp"

namespace palyra::cli {

Result<std::unique_ptr<node::v1::NodeTransport::Stub>> open_grpc_stub(const ResolvedConnection& c) {
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
  grpc::ChannelArguments arguments;
  arguments.SetSslTargetNameOverride(c.tls.server_name);
  return node::v1::NodeTransport::NewStub(
      grpc::CreateCustomChannel(c.grpc_address, grpc::SslCredentials(options), arguments));
}

}  // namespace palyra::cli
