#include "palyra/identity/token_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "palyra/common/atomic_file.hpp"
#include "palyra/common/clock.hpp"
#include "palyra/identity/state_lock.hpp"
#include "token_record_json.hpp"

namespace palyra::identity {
namespace {

using nlohmann::json;

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
    auto record = token_record_from_json(
        (*tokens)[i], fmt::format("token store '{}': record {}", file.string(), i));
    if (!record) return std::move(record).error();
    records.push_back(std::move(*record));
  }
  return records;
}

// Drops records that have been unusable for a while, then writes the file.
Status save(const std::filesystem::path& file, std::vector<TokenRecord>& records,
            std::int64_t now) {
  std::erase_if(records, [&](const TokenRecord& r) { return token_prunable(r, now); });
  json array = json::array();
  for (const auto& r : records) array.push_back(token_record_to_json(r));
  json document = {{"version", 1}, {"tokens", std::move(array)}};
  return write_file_atomically(file, document.dump(2) + "\n", 0600);
}

}  // namespace

Result<EnrollmentToken> FileTokenStore::create(const TokenCreateOptions& options,
                                               std::string_view ca_hash, SystemTime now) {
  auto made = make_token(options, ca_hash, now);
  if (!made) return std::move(made).error();
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  auto records = load(dir_.tokens());
  if (!records) return std::move(records).error();
  // An id must name one record.
  while (std::any_of(records->begin(), records->end(),
                     [&](const TokenRecord& r) { return r.id == made->token.id; })) {
    made = make_token(options, ca_hash, now);
    if (!made) return std::move(made).error();
  }
  records->push_back(made->record);
  PALYRA_TRY(save(dir_.tokens(), *records, unix_seconds(now)));
  return made->token;
}

Result<std::vector<TokenRecord>> FileTokenStore::list() {
  return load(dir_.tokens());
}

Status FileTokenStore::revoke(std::string_view id) {
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

Result<TokenRecord> FileTokenStore::consume(
    const PresentedToken& token, SystemTime now,
    const std::function<Status(const TokenRecord&)>& accept) {
  auto lock = StateLock::acquire(dir_);
  if (!lock) return std::move(lock).error();
  auto records = load(dir_.tokens());
  if (!records) return std::move(records).error();
  auto it = std::find_if(records->begin(), records->end(),
                         [&](const TokenRecord& r) { return r.id == token.id; });
  if (it == records->end()) return token_refused(token.id, "unknown id");
  auto consumed = take_token_use(*it, token, now, accept);
  if (!consumed) return consumed;
  *it = *consumed;
  PALYRA_TRY(save(dir_.tokens(), *records, unix_seconds(now)));
  return consumed;
}

}  // namespace palyra::identity
