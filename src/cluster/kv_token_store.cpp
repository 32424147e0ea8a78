#include "kv_token_store.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "palyra/common/clock.hpp"

namespace palyra::cluster {

namespace {

// How often a compare-and-set is tried again before giving up: each retry
// means another gateway changed this very token in between, so a handful
// is already a storm.
constexpr int kMaxAttempts = 16;

}  // namespace

Result<KvTokenStore::Found> KvTokenStore::find(std::string_view id) {
  auto value = bucket_.get(id);
  if (!value) return std::move(value).error();
  if (!value->has_value()) {
    return Error(Errc::NotFound, fmt::format("no enrollment token with id '{}'", id));
  }
  auto record = identity::parse_token_record((*value)->value,
                                             fmt::format("{} record {}", bucket_.name(), id));
  if (!record) return std::move(record).error();
  return Found{std::move(*record), (*value)->revision};
}

Result<identity::TokenRecord> KvTokenStore::change_record(
    std::string_view id,
    const std::function<Result<identity::TokenRecord>(identity::TokenRecord)>& change) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto found = find(id);
    if (!found) return std::move(found).error();
    auto changed = change(found->record);
    if (!changed) return changed;
    auto stored = bucket_.update(id, identity::token_record_json(*changed), found->revision);
    if (!stored) return std::move(stored).error();
    if (*stored) return changed;
    // Another gateway changed the record since we read it: read it again.
  }
  return Error(
      Errc::StorageFailed,
      fmt::format("enrollment token {}: gave up after {} concurrent changes", id, kMaxAttempts));
}

Result<identity::EnrollmentToken> KvTokenStore::create(const identity::TokenCreateOptions& options,
                                                       std::string_view ca_hash,
                                                       identity::SystemTime now) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto made = identity::make_token(options, ca_hash, now);
    if (!made) return std::move(made).error();
    auto created = bucket_.create(made->token.id, identity::token_record_json(made->record));
    if (!created) return std::move(created).error();
    if (*created) {
      prune(unix_seconds(now));
      return made->token;
    }
  }
  return Error(Errc::StorageFailed, "no free enrollment token id after 16 tries");
}

Result<std::vector<identity::TokenRecord>> KvTokenStore::list() {
  auto keys = bucket_.keys();
  if (!keys) return std::move(keys).error();
  std::vector<identity::TokenRecord> records;
  for (const auto& key : *keys) {
    auto found = find(key);
    if (!found && found.error().code() == Errc::NotFound) continue;  // purged meanwhile
    if (!found) return std::move(found).error();
    records.push_back(std::move(found->record));
  }
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return std::tie(a.created_unix, a.id) < std::tie(b.created_unix, b.id);
  });
  return records;
}

Status KvTokenStore::revoke(std::string_view id) {
  auto revoked = change_record(id, [](identity::TokenRecord record) {
    record.revoked = true;
    return Result<identity::TokenRecord>(std::move(record));
  });
  if (!revoked) return std::move(revoked).error();
  return {};
}

Result<identity::TokenRecord> KvTokenStore::consume(
    const identity::PresentedToken& token, identity::SystemTime now,
    const std::function<Status(const identity::TokenRecord&)>& accept) {
  auto consumed = change_record(token.id, [&](identity::TokenRecord record) {
    return identity::take_token_use(std::move(record), token, now, accept);
  });
  if (!consumed && consumed.error().code() == Errc::NotFound) {
    return identity::token_refused(token.id, "unknown id");
  }
  return consumed;
}

// Best effort: a record that cannot be read or purged now is tried again at
// the next create.
void KvTokenStore::prune(std::int64_t now_unix) {
  auto records = list();
  if (!records) return;
  for (const auto& record : *records) {
    if (identity::token_prunable(record, now_unix)) (void)bucket_.purge(record.id);
  }
}

}  // namespace palyra::cluster
