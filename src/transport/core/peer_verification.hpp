// Verification of the peer's certificate chain in the handshake (PROTOCOL.md
// §2), and who the peer is once it passed. Both sides check a chain the same
// way (check_peer_chain): found in the context's cache of chains verified
// before, or verified by GnuTLS against the CA with the side's checks (name,
// purpose), with a leaf that names the side's purpose in its extended key
// usage. check_peer_chain works on the certificates and a ChainVerifier, so
// tests feed it certificates directly; in a handshake, the session gives
// both. Revocation and the server pin are checked after the handshake
// (peer_admission.hpp), where the precise alert can be sent.
#pragma once

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <ctime>
#include <span>
#include <string>

#include "palyra/common/result.hpp"
#include "palyra/transport/connection.hpp"
#include "tls_session.hpp"
#include "verified_chain_cache.hpp"

namespace palyra::transport {

// GnuTLS's verification of a presented chain against the trusted CA, with
// `checks` (name, purpose). In a handshake, the session's
// (gnutls_certificate_verify_peers, which also applies the credentials'
// limits and any stapled OCSP response).
class ChainVerifier {
 public:
  // 0 with *status 0: trusted; 0 with *status set: refused, with these
  // gnutls_certificate_status_t bits; negative: GnuTLS could not verify.
  virtual int verify(std::span<const gnutls_datum_t> chain, const gnutls_typed_vdata_st* checks,
                     unsigned check_count, unsigned* status) const = 0;

 protected:
  ~ChainVerifier() = default;
};

// Checks `chain` (leaf first, DER) as our verify functions do: 0 when it is
// found in `cache`, or `verifier` trusts it with `checks` and its leaf names
// `purpose_oid` in its extended key usage (GnuTLS accepts a leaf without any
// EKU for every purpose; PROTOCOL.md requires it); a chain that passes is
// cached. Otherwise GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR, leaving the
// status bits in check.status. check.chain_key is the chain's key either way.
int check_peer_chain(std::span<const gnutls_datum_t> chain, const ChainVerifier& verifier,
                     VerifiedChainCache& cache, const gnutls_typed_vdata_st* checks,
                     unsigned check_count, const char* purpose_oid, PeerCheck& check);

// The verify functions new sessions get (gnutls_session_set_verify_function).
// Server: the client's chain to the gateway CA, its validity and EKU clientAuth.
int verify_client_certificate(gnutls_session_t session);
// Client: the server's chain to the CA, its name (DNS or IP SAN), validity
// and EKU serverAuth.
int verify_server_certificate(gnutls_session_t session);
// Enrolling client (PROTOCOL.md §7): the server's chain against the CA hash
// from the token, since the node has no CA yet.
int verify_server_by_ca_hash(gnutls_session_t session);

// The leaf of `chain`: whether it names `purpose_oid` in its extended key
// usage, its validity period and its common name. Nothing for an empty chain.
struct LeafFacts {
  bool has_purpose = false;
  std::string common_name;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
};
LeafFacts inspect_leaf(std::span<const gnutls_datum_t> chain, const char* purpose_oid);

// The peer's leaf certificate as the handshake presented it.
// EmptyPeerCertificateChain when it sent none. With the context's
// verified-chain cache, a chain found there gives the common name without
// parsing the certificate again.
Result<PeerIdentity> peer_identity_of(gnutls_session_t session,
                                      const VerifiedChainCache* verified = nullptr);

// Why a chain was refused, in words ("The certificate has expired. ...");
// empty when it was not.
std::string describe_refusal(const PeerCheck& check);
// The same for the session's verify function.
std::string describe_verify_failure(gnutls_session_t session);

}  // namespace palyra::transport
