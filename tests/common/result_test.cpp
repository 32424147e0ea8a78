#include "palyra/common/result.hpp"

#include <gtest/gtest.h>

namespace palyra {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0)
    return Error(Errc::InvalidArgument, "expected a positive number, got " + std::to_string(v));
  return v;
}

Status chain(int v) {
  PALYRA_TRY(parse_positive(v));
  return {};
}

TEST(Result, CarriesValueOrError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::InvalidArgument);
  EXPECT_EQ(bad.error().describe(), "InvalidArgument: expected a positive number, got -1");
}

TEST(Result, TryPropagatesTheFirstError) {
  EXPECT_TRUE(chain(1).ok());
  auto s = chain(0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::InvalidArgument);
}

TEST(Result, ProtocolErrorNamesAreStable) {
  EXPECT_EQ(errc_name(Errc::PinnedCertificateMismatch), "PinnedCertificateMismatch");
  EXPECT_EQ(errc_name(Errc::FrameTooLarge), "FrameTooLarge");
  EXPECT_EQ(errc_name(Errc::HandshakeTimeout), "HandshakeTimeout");
}

}  // namespace
}  // namespace palyra
