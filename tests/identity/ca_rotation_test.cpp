// A CA rotation in its three steps: the old and the new CA overlap, so a
// device certificate of either keeps chaining to the trust bundle until the
// last step.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "identity_fixture.hpp"
#include "palyra/identity/store.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;
using palyra::testing::chains_to;

class CaRotationTest : public palyra::testing::IdentityDirTest {};

TEST_F(CaRotationTest, CaRotationOverlapsOldAndNewCa) {
  IdentityStore store(state());
  ASSERT_TRUE(store.create_ca("Old CA", false).ok());
  ASSERT_TRUE(store.issue_server({"gw.example", {"alt.example"}, {"127.0.0.1"}}).ok());
  auto old_ca = *store.load_ca();
  auto old_device = *store.issue_device("n1", 24h, std::nullopt);
  auto old_device_cert = *Certificate::from_pem_file(old_device.cert);
  auto bundle_names = [&] {
    std::vector<std::string> names;
    auto chain = Certificate::chain_from_pem(*store.ca_bundle_pem());
    EXPECT_TRUE(chain.ok());
    if (chain) {
      for (const auto& c : *chain) names.push_back(c.common_name());
    }
    return names;
  };
  EXPECT_EQ(*store.ca_rotation_stage(), CaRotationStage::None);

  auto introduced = store.rotate_ca("New CA", 24h);
  ASSERT_TRUE(introduced.ok()) << introduced.error().describe();
  EXPECT_EQ(introduced->now, CaRotationStage::Introduced);
  EXPECT_NE(introduced->next_step.find("(1d)"), std::string::npos) << introduced->next_step;
  EXPECT_EQ(*store.ca_rotation_stage(), CaRotationStage::Introduced);
  EXPECT_EQ(bundle_names(), (std::vector<std::string>{"Old CA", "New CA"}));
  EXPECT_EQ(store.load_ca()->certificate().common_name(), "Old CA") << "the old CA still signs";
  struct stat st {};
  ASSERT_EQ(::stat(state().next_ca_key().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(chains_to(old_device_cert, *store.ca_bundle_pem()));
  const auto server_before = *Certificate::from_pem_file(state().server_cert());

  auto promoted = store.rotate_ca("ignored", 24h);
  ASSERT_TRUE(promoted.ok()) << promoted.error().describe();
  EXPECT_EQ(promoted->now, CaRotationStage::Promoted);
  EXPECT_EQ(bundle_names(), (std::vector<std::string>{"New CA", "Old CA"}));
  auto new_ca = store.load_ca();
  ASSERT_TRUE(new_ca.ok()) << new_ca.error().describe();
  EXPECT_EQ(new_ca->certificate().common_name(), "New CA");
  EXPECT_FALSE(std::filesystem::exists(state().next_ca_cert()));
  EXPECT_FALSE(std::filesystem::exists(state().next_ca_key()));
  EXPECT_EQ(Certificate::from_pem_file(state().retired_ca_cert())->common_name(), "Old CA");
  auto server = *Certificate::chain_from_pem_file(state().server_chain());
  ASSERT_EQ(server.size(), 2u);
  EXPECT_EQ(server[1].common_name(), "New CA");
  EXPECT_NE(server[0].fingerprint(), server_before.fingerprint());
  EXPECT_EQ(server[0].dns_names(), server_before.dns_names());
  EXPECT_EQ(server[0].ip_addresses(), server_before.ip_addresses());
  EXPECT_EQ(*certificate_key_id(server[0]),
            PrivateKey::from_pem_file(state().server_key())->key_id());
  EXPECT_TRUE(chains_to(old_device_cert, *store.ca_bundle_pem()));
  auto new_device = *store.issue_device("n2", 24h, std::nullopt);
  EXPECT_TRUE(chains_to(*Certificate::from_pem_file(new_device.cert), *store.ca_bundle_pem()));
  auto kinds = std::vector<std::string>{};
  auto ledger = store.ledger();
  ASSERT_TRUE(ledger.ok());
  for (const auto& e : ledger->entries()) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"ca", "server", "device", "ca", "server", "device"}));

  auto done = store.rotate_ca("ignored", 24h);
  ASSERT_TRUE(done.ok()) << done.error().describe();
  EXPECT_EQ(done->now, CaRotationStage::None);
  EXPECT_EQ(bundle_names(), (std::vector<std::string>{"New CA"}));
  EXPECT_FALSE(std::filesystem::exists(state().retired_ca_cert()));
  EXPECT_FALSE(chains_to(old_device_cert, *store.ca_bundle_pem()));
  EXPECT_TRUE(chains_to(*Certificate::from_pem_file(new_device.cert), *store.ca_bundle_pem()));
  EXPECT_EQ(*store.ca_rotation_stage(), CaRotationStage::None);
}

}  // namespace
}  // namespace palyra::identity
