#include "server_identity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "palyra/identity/certificate.hpp"
#include "palyra/identity/store.hpp"

namespace palyra::daemon {
namespace {

// What `palyra init` issues: the names a local daemon is reached by.
identity::ServerCertificateRequest default_request() {
  return identity::ServerCertificateRequest{"localhost", {}, {"127.0.0.1", "::1"}};
}

}  // namespace

Result<ServerCertificateStatus> ensure_server_certificate(const identity::StateDir& dir,
                                                          std::chrono::seconds renew_before) {
  identity::IdentityStore store(dir);
  if (!std::filesystem::exists(dir.ca_cert())) {
    return Error(Errc::NotFound, fmt::format("no gateway CA in {} (run `palyra init --state-dir {}`)",
                                             dir.root.string(), dir.root.string()));
  }
  ServerCertificateStatus status;
  identity::ServerCertificateRequest request = default_request();
  const bool have_pair = std::filesystem::exists(dir.server_cert()) &&
                         std::filesystem::exists(dir.server_key()) &&
                         std::filesystem::exists(dir.server_chain());
  auto current = have_pair ? identity::Certificate::from_pem_file(dir.server_cert())
                           : Result<identity::Certificate>(Error(Errc::NotFound, "missing"));
  if (current) {
    const auto left = current->not_after() - std::chrono::system_clock::now();
    if (left > renew_before) {
      status.fingerprint = current->fingerprint();
      status.not_after = current->not_after();
      return status;
    }
    request = identity::server_request_like(*current);
    status.reason = fmt::format("expires in {} h", std::chrono::duration_cast<std::chrono::hours>(left).count());
  } else {
    status.reason = have_pair ? current.error().describe() : "missing";
  }
  auto written = store.issue_server(request);
  if (!written) return std::move(written).error();
  status.reissued = true;
  status.fingerprint = written->fingerprint;
  status.not_after = written->not_after;
  return status;
}

}  // namespace palyra::daemon
