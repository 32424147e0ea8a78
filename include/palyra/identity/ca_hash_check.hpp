// How a node that has no CA yet checks a daemon (PROTOCOL.md §7): the chain
// the server sends must end in a CA whose SubjectPublicKeyInfo SHA-256 is the
// token's ca-hash, and must verify against that CA alone. One check for both
// transports: the QUIC handshake's verify function and the gRPC fallback's
// certificate verifier.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "palyra/common/result.hpp"

namespace palyra::identity {

// A chain (leaf first, as a TLS peer sends it, DER) against a CA hash: at
// least two certificates; the SPKI SHA-256 of the last one equals
// `ca_spki_sha256` (compared after normalizing); the chain verifies against
// that certificate alone, for `server_name` (DNS name or IP address), now;
// the leaf names serverAuth among its key purposes.
// CertificateParsingFailed (unreadable chain), PinnedCertificateMismatch (no
// CA, or another CA: the message names both hashes), ConnectFailed (the
// chain does not verify: the message says why), TlsConfigurationFailed (a
// malformed ca_spki_sha256).
Status verify_chain_against_ca_hash(const std::vector<std::string_view>& chain_der,
                                    std::string_view ca_spki_sha256, std::string_view server_name);
// The same for a PEM chain.
Status verify_chain_against_ca_hash(std::string_view chain_pem, std::string_view ca_spki_sha256,
                                    std::string_view server_name);

}  // namespace palyra::identity
