// A test with one nats-server of its own (JetStream, loopback, its store in
// the test's directory), skipped on machines without nats-server. The
// binary is the target's PALYRA_NATS_SERVER definition.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../common/temp_dir.hpp"
#include "nats_fixture.hpp"

namespace palyra::testing {

class NatsServerTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (std::string(PALYRA_NATS_SERVER).empty()) GTEST_SKIP() << "no nats-server on this machine";
    server_ = std::make_unique<NatsServer>(PALYRA_NATS_SERVER, dir_ / "nats");
    ASSERT_FALSE(server_->url().empty())
        << "nats-server did not start; see " << server_->stderr_log();
  }
  void TearDown() override {
    server_.reset();  // before the directory it stores in
    TempDirTest::TearDown();
  }

  std::unique_ptr<NatsServer> server_;
};

}  // namespace palyra::testing
