// The state directory: where the gateway CA, the daemon's certificate, the
// device certificates, the revocation index, the issuance ledger and the
// event journal live.
//
//   <state>/ca/ca.pem, ca/ca.key                 the gateway CA (key 0600); ca.pem is
//                                                the trust bundle: the signing CA first,
//                                                then any CA still trusted during a rotation
//   <state>/ca/next.pem, next.key                a CA rotation's new CA (stage Introduced)
//   <state>/ca/retired.pem                       a rotation's old CA (stage Promoted)
//   <state>/server/server.pem, server-chain.pem  the daemon's certificate (+ CA)
//   <state>/server/server.key
//   <state>/server/quic-secret                    the daemon's QUIC secret (0600, 32 bytes):
//                                                stateless reset and Retry tokens
//   <state>/devices/<device_id>/device.pem, device.key
//                                                <device_id> may be a symlink to a
//                                                generation directory .<device_id>.<serial>
//                                                (a node's enrolled identity); names
//                                                starting with '.' are never devices
//   <state>/revoked.txt                           revocation index
//   <state>/ledger.json                           issuance ledger
//   <state>/tokens.json                           enrollment tokens (hashes only, 0600)
//   <state>/.lock                                 flock'd by every read-modify-write of
//                                                the ledger, the tokens and the CA files
//   <state>/journal.sqlite3                       event journal (palyrad)
//
// Directories are created 0700, private keys 0600.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace palyra::identity {

struct StateDir {
  std::filesystem::path root;

  std::filesystem::path ca_dir() const { return root / "ca"; }
  std::filesystem::path ca_cert() const { return root / "ca" / "ca.pem"; }
  std::filesystem::path ca_key() const { return root / "ca" / "ca.key"; }
  std::filesystem::path next_ca_cert() const { return root / "ca" / "next.pem"; }
  std::filesystem::path next_ca_key() const { return root / "ca" / "next.key"; }
  std::filesystem::path retired_ca_cert() const { return root / "ca" / "retired.pem"; }
  std::filesystem::path server_dir() const { return root / "server"; }
  std::filesystem::path server_cert() const { return root / "server" / "server.pem"; }
  std::filesystem::path server_chain() const { return root / "server" / "server-chain.pem"; }
  std::filesystem::path server_key() const { return root / "server" / "server.key"; }
  std::filesystem::path server_secret() const { return root / "server" / "quic-secret"; }
  std::filesystem::path device_dir(std::string_view device_id) const {
    return root / "devices" / std::string(device_id);
  }
  std::filesystem::path device_cert(std::string_view device_id) const {
    return device_dir(device_id) / "device.pem";
  }
  std::filesystem::path device_key(std::string_view device_id) const {
    return device_dir(device_id) / "device.key";
  }
  std::filesystem::path revocations() const { return root / "revoked.txt"; }
  std::filesystem::path ledger() const { return root / "ledger.json"; }
  std::filesystem::path tokens() const { return root / "tokens.json"; }
  std::filesystem::path lock_file() const { return root / ".lock"; }
  std::filesystem::path devices_dir() const { return root / "devices"; }
  std::filesystem::path journal() const { return root / "journal.sqlite3"; }
};

// $PALYRA_STATE_DIR, else $XDG_STATE_HOME/palyra, else $HOME/.local/state/palyra.
std::filesystem::path default_state_dir();
// The directory a --state-dir option names, or the default when it is empty.
StateDir state_dir_or_default(const std::string& option);

}  // namespace palyra::identity
