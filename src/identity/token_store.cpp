#include "palyra/identity/token_store.hpp"

#include <fmt/format.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <algorithm>
#include <array>
#include <limits>
#include <nlohmann/json.hpp>

#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/fingerprint.hpp"
#include "palyra/identity/state_lock.hpp"

namespace palyra::identity {
namespace {

using nlohmann::json;

std::int64_t unix_seconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bool is_lower_hex(const std::string& text, std::size_t length) {
  return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string secret_hash(std::string_view secret) {
  return sha256_fingerprint(std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(secret.data()), secret.size()));
}

// One record from the file, every field's type and value checked: nlohmann
// would throw on a wrong type, and a bad value must not reach consume().
Result<TokenRecord> parse_record(const json& j, std::size_t index,
                                 const std::filesystem::path& file) {
  auto bad = [&](std::string_view what) {
    return Error(Errc::IoFailed,
                 fmt::format("token store '{}': record {} {}", file.string(), index, what));
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

Result<std::vector<TokenRecord>> load(const std::filesystem::path& file) {
  auto text = read_file(file);
  if (!text) {
    if (text.error().code() == Errc::NotFound) return std::vector<TokenRecord>{};
    return std::move(text).error();
  }
  // nlohmann's lexer takes a NUL byte for the end of the input: what follows
  // one would be dropped silently.
  auto document = text->find('\0') == std::string::npos
                      ? json::parse(*text, nullptr, /*allow_exceptions=*/false)
                      : json(json::value_t::discarded);
  if (document.is_discarded()) {
    return Error(Errc::IoFailed, fmt::format("token store '{}' is not valid JSON", file.string()));
  }
  auto tokens = document.is_object() ? document.find("tokens") : document.end();
  if (!document.is_object() || tokens == document.end() || !tokens->is_array()) {
    return Error(
        Errc::IoFailed,
        fmt::format("token store '{}' is not an object with a \"tokens\" array", file.string()));
  }
  std::vector<TokenRecord> records;
  for (std::size_t i = 0; i < tokens->size(); ++i) {
    auto record = parse_record((*tokens)[i], i, file);
    if (!record) return std::move(record).error();
    records.push_back(std::move(*record));
  }
  return records;
}

bool usable(const TokenRecord& r, std::int64_t now) {
  return !r.revoked && r.uses_left > 0 && now < r.expires_unix;
}

// Drops records that have been unusable for a while. A used-up or revoked
// record's moment of death is not kept; its creation is a lower bound.
void prune(std::vector<TokenRecord>& records, std::int64_t now) {
  const auto retention = kTokenRecordRetention.count();
  std::erase_if(records, [&](const TokenRecord& r) {
    if (usable(r, now)) return false;
    std::int64_t dead_since = now >= r.expires_unix ? r.expires_unix : r.created_unix;
    return now - dead_since > retention;
  });
}

Status save(const std::filesystem::path& file, std::vector<TokenRecord>& records,
            std::int64_t now) {
  prune(records, now);
  json array = json::array();
  for (const auto& r : records) {
    array.push_back({{"id", r.id},
                     {"secret_sha256", r.secret_sha256},
                     {"created_unix", r.created_unix},
                     {"expires_unix", r.expires_unix},
                     {"uses_left", r.uses_left},
                     {"device_id", r.device_id ? json(*r.device_id) : json()},
                     {"revoked", r.revoked}});
  }
  json document = {{"version", 1}, {"tokens", std::move(array)}};
  return write_file_atomically(file, document.dump(2) + "\n", 0600);
}

std::string random_hex(std::size_t bytes, gnutls_rnd_level_t level) {
  std::array<unsigned char, 32> buffer{};
  gnutls_rnd(level, buffer.data(), bytes);
  return lower_hex(std::span<const unsigned char>(buffer.data(), bytes));
}

}  // namespace

Result<EnrollmentToken> TokenStore::create(const TokenCreateOptions& options,
                                           std::string_view ca_hash, SystemTime now) {
  if (options.uses == 0) return Error(Errc::InvalidArgument, "a token must allow at least one use");
  if (options.ttl <= std::chrono::seconds::zero()) {
    return Error(Errc::InvalidArgument,
                 fmt::format("a token's lifetime must be positive, not {} s", options.ttl.count()));
  }
  if (options.device_id) PALYRA_TRY(validate_device_id(*options.device_id));
  if (!is_lower_hex(std::string(ca_hash), kTokenCaHashHexLength)) {
    return Error(Errc::InvalidArgument, "the CA hash must be 64 lowercase hex digits");
  }
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  auto records = load(dir_.tokens());
  if (!records) return std::move(records).error();
  EnrollmentToken token;
  // 32 random bits: collisions are rare, but an id must name one record.
  do {
    token.id = random_hex(kTokenIdHexLength / 2, GNUTLS_RND_NONCE);
  } while (std::any_of(records->begin(), records->end(),
                       [&](const TokenRecord& r) { return r.id == token.id; }));
  token.secret = random_hex(kTokenSecretHexLength / 2, GNUTLS_RND_KEY);
  token.ca_hash = std::string(ca_hash);
  TokenRecord record;
  record.id = token.id;
  record.secret_sha256 = secret_hash(token.secret);
  record.created_unix = unix_seconds(now);
  record.expires_unix = unix_seconds(now + options.ttl);
  record.uses_left = options.uses;
  record.device_id = options.device_id;
  records->push_back(std::move(record));
  PALYRA_TRY(save(dir_.tokens(), *records, unix_seconds(now)));
  return token;
}

Result<std::vector<TokenRecord>> TokenStore::list() const {
  // The file is only ever replaced whole (rename), so reading needs no lock.
  return load(dir_.tokens());
}

Status TokenStore::revoke(std::string_view id) {
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  auto records = load(dir_.tokens());
  if (!records) return std::move(records).error();
  auto it = std::find_if(records->begin(), records->end(),
                         [&](const TokenRecord& r) { return r.id == id; });
  if (it == records->end()) {
    return Error(Errc::NotFound, fmt::format("no enrollment token with id '{}'", id));
  }
  it->revoked = true;
  return save(dir_.tokens(), *records, unix_seconds(std::chrono::system_clock::now()));
}

Result<TokenRecord> TokenStore::consume(const PresentedToken& token, SystemTime now,
                                        const std::function<Status(const TokenRecord&)>& accept) {
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  auto records = load(dir_.tokens());
  if (!records) return std::move(records).error();
  auto refused = [&](std::string_view why) {
    return Error(Errc::InvalidArgument, fmt::format("enrollment token {}: {}", token.id, why));
  };
  auto it = std::find_if(records->begin(), records->end(),
                         [&](const TokenRecord& r) { return r.id == token.id; });
  if (it == records->end()) return refused("unknown id");
  // Constant time: how long the comparison takes says nothing about how
  // much of the hash matched. Both are 64 hex digits (checked at load).
  const std::string presented = secret_hash(token.secret);
  if (it->secret_sha256.size() != presented.size() ||
      gnutls_memcmp(it->secret_sha256.data(), presented.data(), presented.size()) != 0) {
    return refused("wrong secret");
  }
  const auto now_unix = unix_seconds(now);
  if (it->revoked) return refused("revoked");
  if (now_unix >= it->expires_unix) {
    return refused(fmt::format("expired {} s ago", now_unix - it->expires_unix));
  }
  if (it->uses_left == 0) return refused("used up");
  if (accept) {
    // E.g. the device id the node asked for is taken: refused, and the
    // token keeps its use for a corrected attempt.
    if (Status accepted = accept(*it); !accepted) {
      return refused(accepted.error().message());
    }
  }
  it->uses_left -= 1;
  TokenRecord consumed = *it;
  // Durable before anyone hears "yes": a crash after this point can lose a
  // certificate, never give a token a second use.
  PALYRA_TRY(save(dir_.tokens(), *records, now_unix));
  return consumed;
}

}  // namespace palyra::identity
