// A gRPC call's caller: its address and its client certificate (see call_peer.hpp).
#include "call_peer.hpp"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/server_context.h>

#include <string_view>

namespace palyra::fallback {

std::string peer_address(const std::string& grpc_peer_uri) {
  std::string_view rest = grpc_peer_uri;
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

std::string client_certificate_pem(const grpc::ServerContextBase& context) {
  auto auth = context.auth_context();
  if (!auth) return {};
  auto pems = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.empty()) return {};
  return std::string(pems.front().data(), pems.front().size());
}

}  // namespace palyra::fallback
