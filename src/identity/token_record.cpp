#include "palyra/identity/token_record.hpp"

#include <fmt/format.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <algorithm>
#include <array>
#include <limits>

#include "palyra/common/clock.hpp"
#include "palyra/identity/fingerprint.hpp"
#include "token_record_json.hpp"

namespace palyra::identity {
namespace {

using nlohmann::json;

bool is_lower_hex(const std::string& text, std::size_t length) {
  return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string secret_hash(std::string_view secret) {
  return sha256_fingerprint(std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(secret.data()), secret.size()));
}

std::string random_hex(std::size_t bytes, gnutls_rnd_level_t level) {
  std::array<unsigned char, 32> buffer{};
  gnutls_rnd(level, buffer.data(), bytes);
  return lower_hex(std::span<const unsigned char>(buffer.data(), bytes));
}

}  // namespace

Result<NewToken> make_token(const TokenCreateOptions& options, std::string_view ca_hash,
                            SystemTime now) {
  if (options.uses == 0) return Error(Errc::InvalidArgument, "a token must allow at least one use");
  if (options.ttl <= std::chrono::seconds::zero()) {
    return Error(Errc::InvalidArgument,
                 fmt::format("a token's lifetime must be positive, not {} s", options.ttl.count()));
  }
  if (options.device_id) PALYRA_TRY(validate_device_id(*options.device_id));
  if (!is_lower_hex(std::string(ca_hash), kTokenCaHashHexLength)) {
    return Error(Errc::InvalidArgument, "the CA hash must be 64 lowercase hex digits");
  }
  NewToken made;
  // 32 random bits for the id: collisions are rare, and the store checks.
  made.token.id = random_hex(kTokenIdHexLength / 2, GNUTLS_RND_NONCE);
  made.token.secret = random_hex(kTokenSecretHexLength / 2, GNUTLS_RND_KEY);
  made.token.ca_hash = std::string(ca_hash);
  made.record.id = made.token.id;
  made.record.secret_sha256 = secret_hash(made.token.secret);
  made.record.created_unix = unix_seconds(now);
  made.record.expires_unix = unix_seconds(now + options.ttl);
  made.record.uses_left = options.uses;
  made.record.device_id = options.device_id;
  return made;
}

Error token_refused(std::string_view id, std::string_view why) {
  return Error(Errc::InvalidArgument, fmt::format("enrollment token {}: {}", id, why));
}

Result<TokenRecord> take_token_use(TokenRecord record, const PresentedToken& token, SystemTime now,
                                   const std::function<Status(const TokenRecord&)>& accept) {
  // Constant time: how long the comparison takes says nothing about how
  // much of the hash matched. Both are 64 hex digits (checked at parse).
  const std::string presented = secret_hash(token.secret);
  if (record.secret_sha256.size() != presented.size() ||
      gnutls_memcmp(record.secret_sha256.data(), presented.data(), presented.size()) != 0) {
    return token_refused(token.id, "wrong secret");
  }
  const auto now_unix = unix_seconds(now);
  if (record.revoked) return token_refused(token.id, "revoked");
  if (now_unix >= record.expires_unix) {
    return token_refused(token.id, fmt::format("expired {} s ago", now_unix - record.expires_unix));
  }
  if (record.uses_left == 0) return token_refused(token.id, "used up");
  if (accept) {
    // E.g. the device id the node asked for is taken: refused, and the
    // token keeps its use for a corrected attempt.
    if (Status accepted = accept(record); !accepted) {
      return token_refused(token.id, accepted.error().message());
    }
  }
  record.uses_left -= 1;
  return record;
}

bool token_usable(const TokenRecord& r, std::int64_t now) {
  return !r.revoked && r.uses_left > 0 && now < r.expires_unix;
}

// A used-up or revoked record's moment of death is not kept; its creation
// is a lower bound.
bool token_prunable(const TokenRecord& r, std::int64_t now) {
  if (token_usable(r, now)) return false;
  const std::int64_t dead_since = now >= r.expires_unix ? r.expires_unix : r.created_unix;
  return now - dead_since > kTokenRecordRetention.count();
}

json token_record_to_json(const TokenRecord& r) {
  return {{"id", r.id},
          {"secret_sha256", r.secret_sha256},
          {"created_unix", r.created_unix},
          {"expires_unix", r.expires_unix},
          {"uses_left", r.uses_left},
          {"device_id", r.device_id ? json(*r.device_id) : json()},
          {"revoked", r.revoked}};
}

// Every field's type and value checked: nlohmann would throw on a wrong
// type, and a bad value must not reach a consume.
Result<TokenRecord> token_record_from_json(const json& j, std::string_view origin) {
  auto bad = [&](std::string_view what) {
    return Error(Errc::IoFailed, fmt::format("{} {}", origin, what));
  };
  if (!j.is_object()) return bad("is not an object");
  auto string_field = [&](const char* key, std::size_t hex_length) -> Result<std::string> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return bad(fmt::format("has no string '{}'", key));
    auto value = it->get<std::string>();
    if (!is_lower_hex(value, hex_length)) {
      return bad(fmt::format("'{}' is not {} lowercase hex digits", key, hex_length));
    }
    return value;
  };
  auto integer_field = [&](const char* key) -> Result<std::int64_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer())
      return bad(fmt::format("has no integer '{}'", key));
    return it->get<std::int64_t>();
  };
  TokenRecord record;
  auto id = string_field("id", kTokenIdHexLength);
  if (!id) return std::move(id).error();
  record.id = std::move(*id);
  auto hash = string_field("secret_sha256", kFingerprintHexLength);
  if (!hash) return std::move(hash).error();
  record.secret_sha256 = std::move(*hash);
  auto created = integer_field("created_unix");
  if (!created) return std::move(created).error();
  record.created_unix = *created;
  auto expires = integer_field("expires_unix");
  if (!expires) return std::move(expires).error();
  record.expires_unix = *expires;
  auto uses = integer_field("uses_left");
  if (!uses) return std::move(uses).error();
  if (*uses < 0 || *uses > std::numeric_limits<std::uint32_t>::max()) {
    return bad("'uses_left' is out of range");
  }
  record.uses_left = static_cast<std::uint32_t>(*uses);
  if (auto it = j.find("device_id"); it != j.end() && !it->is_null()) {
    if (!it->is_string() || !validate_device_id(it->get<std::string>()).ok()) {
      return bad("'device_id' is not a device id");
    }
    record.device_id = it->get<std::string>();
  }
  if (auto it = j.find("revoked"); it != j.end()) {
    if (!it->is_boolean()) return bad("'revoked' is not a boolean");
    record.revoked = it->get<bool>();
  }
  return record;
}

std::string token_record_json(const TokenRecord& record) {
  return token_record_to_json(record).dump();
}

Result<TokenRecord> parse_token_record(std::string_view text, std::string_view origin) {
  // nlohmann's lexer takes a NUL byte for the end of the input.
  auto document = text.find('\0') == std::string_view::npos
                      ? json::parse(text, nullptr, /*allow_exceptions=*/false)
                      : json(json::value_t::discarded);
  if (document.is_discarded()) {
    return Error(Errc::IoFailed, fmt::format("{} is not valid JSON", origin));
  }
  return token_record_from_json(document, origin);
}

}  // namespace palyra::identity
