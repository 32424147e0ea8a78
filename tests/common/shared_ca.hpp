// One gateway CA in several state directories, as a cluster's gateways (or
// a NATS server's certificate) get it: the CA files copied once, with their
// modes, and everything else issued by the CLI in the new directory.
#pragma once

#include <filesystem>

#include "palyra/identity/state_dir.hpp"

namespace palyra::testing {

// Copies ca/ca.pem and ca/ca.key (0600) of `from` into `to` (ca/ 0700).
inline void copy_ca(const identity::StateDir& from, const identity::StateDir& to) {
  namespace fs = std::filesystem;
  fs::create_directories(to.ca_dir());
  fs::permissions(to.root, fs::perms::owner_all, fs::perm_options::replace);
  fs::permissions(to.ca_dir(), fs::perms::owner_all, fs::perm_options::replace);
  fs::copy_file(from.ca_cert(), to.ca_cert(), fs::copy_options::overwrite_existing);
  fs::copy_file(from.ca_key(), to.ca_key(), fs::copy_options::overwrite_existing);
  fs::permissions(to.ca_key(), fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
}

}  // namespace palyra::testing
