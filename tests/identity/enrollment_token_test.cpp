// Enrollment tokens: the strict parse of `<id>.<secret>.<ca-hash>` and of
// what a node presents, and errors that never echo the secret.
#include "palyra/identity/enrollment_token.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace palyra::identity {
namespace {

TEST(EnrollmentTokenTest, TokenParsing) {
  const std::string id = "0123abcd", secret(32, 'f'), hash(64, '9');
  auto token = parse_enrollment_token(" " + id + "." + secret + "." + hash + "\n");
  ASSERT_TRUE(token.ok()) << token.error().describe();
  EXPECT_EQ(token->id, id);
  EXPECT_EQ(token->secret, secret);
  EXPECT_EQ(token->ca_hash, hash);
  EXPECT_EQ(token->text(), id + "." + secret + "." + hash);
  auto presented = parse_presented_token(id + "." + secret);
  ASSERT_TRUE(presented.ok());
  EXPECT_EQ(presented->secret, secret);

  const std::string secret_like = "5ec8e75ec8e75ec8e75ec8e75ec8e7";  // 30 digits: too short
  struct Case {
    std::string text;
    std::string names;
  };
  for (const Case& c : std::vector<Case>{
           {"", "form"},
           {id + "." + secret, "form"},
           {id + "." + secret + "." + hash + ".", "form"},
           {"0123ABCD." + secret + "." + hash, "id"},
           {"0123abc." + secret + "." + hash, "id"},
           {id + "." + secret_like + "." + hash, "secret"},
           {id + "." + std::string(31, 'f') + "g." + hash, "secret"},
           {id + "." + secret + "." + std::string(63, '9'), "ca-hash"},
           {id + ".." + hash, "secret"},
       }) {
    auto r = parse_enrollment_token(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument);
    EXPECT_NE(r.error().message().find(c.names), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().find(secret_like), std::string::npos) << "secret echoed";
  }
  EXPECT_FALSE(parse_presented_token(id + "." + secret + "." + hash).ok());
  EXPECT_FALSE(parse_presented_token(id).ok());
  EXPECT_FALSE(parse_presented_token(id + "." + secret_like).ok());
}

}  // namespace
}  // namespace palyra::identity
