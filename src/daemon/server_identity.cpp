#include "server_identity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "palyra/identity/certificate.hpp"
#include "palyra/identity/store.hpp"

namespace palyra::daemon {
namespace {

// Whether a state file is there; an error (a symlink loop, a directory we
// cannot search) names it, where std::filesystem::exists would throw.
Result<bool> present(const std::filesystem::path& path) {
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (ec)
    return Error(Errc::IoFailed, fmt::format("cannot read '{}': {}", path.string(), ec.message()));
  return exists;
}

// What `palyra init` issues: the names a local daemon is reached by.
identity::ServerCertificateRequest default_request() {
  return identity::ServerCertificateRequest{"localhost", {}, {"127.0.0.1", "::1"}};
}

}  // namespace

Result<ServerCertificateStatus> ensure_server_certificate(const identity::StateDir& dir,
                                                          std::chrono::seconds renew_before,
                                                          SystemTime now) {
  identity::IdentityStore store(dir);
  auto have_ca = present(dir.ca_cert());
  if (!have_ca) return std::move(have_ca).error();
  if (!*have_ca) {
    return Error(Errc::NotFound,
                 fmt::format("no gateway CA in {} (run `palyra init --state-dir {}`)",
                             dir.root.string(), dir.root.string()));
  }
  ServerCertificateStatus status;
  identity::ServerCertificateRequest request = default_request();
  bool have_pair = true;
  for (const auto& file : {dir.server_cert(), dir.server_key(), dir.server_chain()}) {
    auto here = present(file);
    if (!here) return std::move(here).error();
    have_pair = have_pair && *here;
  }
  auto current = have_pair ? identity::Certificate::from_pem_file(dir.server_cert())
                           : Result<identity::Certificate>(Error(Errc::NotFound, "missing"));
  if (current) {
    const auto left = current->not_after() - now;
    if (left > renew_before) {
      status.fingerprint = current->fingerprint();
      status.not_after = current->not_after();
      return status;
    }
    request = identity::server_request_like(*current);
    status.reason = fmt::format("expires in {} h",
                                std::chrono::duration_cast<std::chrono::hours>(left).count());
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
