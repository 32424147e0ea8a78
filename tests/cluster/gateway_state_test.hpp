// A test with its own nats-server whose gateways are SharedState objects,
// each with its own connection (as palyrad gateways have), creating the
// buckets if missing.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "../journal/nats_server_test.hpp"
#include "palyra/cluster/shared_state.hpp"

namespace palyra::cluster {

// A 64-hex-digit fingerprint made from a number.
inline std::string test_fingerprint(int n) {
  char hex[65];
  std::snprintf(hex, sizeof hex, "%064x", n);
  return hex;
}

class GatewayStateTest : public palyra::testing::NatsServerTest {
 protected:
  // One gateway's view: its own connection, creating the buckets if missing.
  std::shared_ptr<SharedState> gateway() {
    SharedStateOptions options;
    options.servers.urls = {server_->url()};
    options.create_with_replicas = 1;
    auto state = SharedState::open(options);
    EXPECT_TRUE(state) << (state ? "" : state.error().describe());
    return state ? std::move(*state) : nullptr;
  }
};

}  // namespace palyra::cluster
