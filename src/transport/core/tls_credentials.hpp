// GnuTLS certificate credentials from PEM files: our certificate and key,
// and the CA we trust. Each file is parsed first, so an error names the file
// and what is wrong with it instead of a generic credentials failure.
#pragma once

#include <gnutls/gnutls.h>

#include <filesystem>
#include <string_view>

#include "palyra/common/result.hpp"

namespace palyra::transport {

// Our certificate chain and its key; `what` names the certificate in errors
// ("server certificate"). CertificateParsingFailed / PrivateKeyParsingFailed
// with the path; TlsConfigurationFailed when the key does not match.
Status set_key_pair(gnutls_certificate_credentials_t credentials, const std::filesystem::path& cert,
                    const std::filesystem::path& key, std::string_view what);

// The CA a peer's chain must lead to. CertificateParsingFailed with the path.
Status set_trust(gnutls_certificate_credentials_t credentials, const std::filesystem::path& ca);

}  // namespace palyra::transport
