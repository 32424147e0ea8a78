// A node's own identity on disk: each new key and certificate in a
// generation directory, swapped in through an atomic symlink.
#include "palyra/identity/device_identity.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "identity_fixture.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/identity/csr.hpp"
#include "palyra/identity/store.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;

class DeviceIdentityTest : public palyra::testing::IdentityDirTest {};

TEST_F(DeviceIdentityTest, NodeIdentityIsReplacedThroughAnAtomicSymlink) {
  auto ca = *CertificateAuthority::create("CA");
  const auto node = state();
  auto store_once = [&](const std::string& id) {
    auto key = *PrivateKey::generate();
    auto request = *CertificateRequest::from_pem(*make_csr_pem(key, id));
    auto certificate = *ca.issue_device_for_key(request, id, 24h, std::chrono::system_clock::now());
    EXPECT_TRUE(store_device_identity(node, id, key, certificate, ca.certificate().pem()).ok());
    return std::pair{key, certificate};
  };
  // A plain directory from `palyra cert device` is replaced too.
  ASSERT_TRUE(ensure_private_directory(node.device_dir("n1")).ok());
  ASSERT_TRUE(write_file_atomically(node.device_cert("n1"), "old").ok());
  auto [key1, cert1] = store_once("n1");
  auto [key2, cert2] = store_once("n1");
  ASSERT_TRUE(std::filesystem::is_symlink(node.device_dir("n1")));
  EXPECT_EQ(std::filesystem::read_symlink(node.device_dir("n1")).string(),
            ".n1." + cert2.serial_hex());
  EXPECT_EQ(Certificate::from_pem_file(node.device_cert("n1"))->fingerprint(), cert2.fingerprint());
  EXPECT_EQ(PrivateKey::from_pem_file(node.device_key("n1"))->key_id(), key2.key_id());
  struct stat st {};
  ASSERT_EQ(::stat(node.device_key("n1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*read_file(node.ca_cert()), ca.certificate().pem());
  // Only the current generation is left; another device whose id extends
  // this one's keeps its own.
  store_once("n1.ff");
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(node.devices_dir())) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names.size(), 4u);
  EXPECT_EQ(std::count_if(names.begin(), names.end(),
                          [](const std::string& n) { return is_hidden_device_entry(n); }),
            2);

  auto stranger = *PrivateKey::generate();
  EXPECT_EQ(
      store_device_identity(node, "n1", stranger, cert2, ca.certificate().pem()).error().code(),
      Errc::KeyCertificateMismatch);
  EXPECT_EQ(store_device_identity(node, "n2", key2, cert2, ca.certificate().pem()).error().code(),
            Errc::InvalidArgument);
  IdentityStore ca_state(StateDir{dir_ / "ca-state"});
  ASSERT_TRUE(ca_state.create_ca("CA", false).ok());
  auto refused = store_device_identity(ca_state.dir(), "n1", key2, cert2, ca.certificate().pem());
  EXPECT_EQ(refused.error().code(), Errc::InvalidArgument);
}

}  // namespace
}  // namespace palyra::identity
