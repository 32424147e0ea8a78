// A node's own identity on disk, written by enrollment and renewal.
#pragma once

#include <string_view>

#include "palyra/common/result.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/state_dir.hpp"

namespace palyra::identity {

// Stores a node's identity so that a crash never leaves a key and a
// certificate that do not match: <state>/devices/<id> is a symlink to a
// generation directory <state>/devices/.<id>.<serial-hex> holding device.key
// (0600) and device.pem. The new generation is written and fsync'd first,
// then the symlink is replaced with rename(2) (atomic), then older
// generations are removed. A plain directory left by `palyra cert device` is
// first moved aside to a generation name (a crash in that instant leaves the
// identity only under the dot name; storing again repairs it). The CA bundle
// goes to <state>/ca/ca.pem first (atomic).
//
// InvalidArgument for a CA's state directory (it holds ca/ca.key) or a
// certificate for another device id; KeyCertificateMismatch;
// CertificateParsingFailed for a bundle with no certificate; InvalidDeviceId;
// IoFailed.
Status store_device_identity(const StateDir& dir, std::string_view device_id, const PrivateKey& key,
                             const Certificate& certificate, std::string_view ca_bundle_pem);

// True for a name in <state>/devices/ that is not a device (a generation
// directory or a temporary link: they start with '.').
inline bool is_hidden_device_entry(std::string_view name) {
  return name.starts_with('.');
}

}  // namespace palyra::identity
