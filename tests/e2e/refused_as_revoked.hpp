// Whether a gateway refused a handshake because the client's certificate is
// revoked (and not for any other reason): what every revocation test checks
// last.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "palyra/common/result.hpp"
#include "palyra/transport/io/client.hpp"

namespace palyra::e2e {

inline ::testing::AssertionResult refused_as_revoked(
    const Result<std::unique_ptr<transport::Client>>& connected) {
  if (connected) return ::testing::AssertionFailure() << "the revoked certificate was let in";
  const std::string message = connected.error().message();
  if (message.find("certificate_revoked (0x12c)") == std::string::npos)
    return ::testing::AssertionFailure() << "refused, but not as revoked: " << message;
  return ::testing::AssertionSuccess();
}

}  // namespace palyra::e2e
