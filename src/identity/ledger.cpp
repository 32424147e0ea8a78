#include "palyra/identity/ledger.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <type_traits>

#include "palyra/common/atomic_file.hpp"
#include "palyra/common/clock.hpp"

namespace palyra::identity {
namespace {

// The seconds a SystemTime holds (it counts nanoseconds: about 292 years
// either side of 1970); from_time_t of anything further overflows.
constexpr std::int64_t kMaxUnix =
    std::chrono::duration_cast<std::chrono::seconds>(SystemTime::duration::max()).count();

nlohmann::json to_json_entry(const LedgerEntry& e) {
  nlohmann::json j = {{"sequence", e.sequence},
                      {"kind", e.kind},
                      {"subject", e.subject},
                      {"device_id", e.device_id},
                      {"fingerprint", e.fingerprint},
                      {"serial", e.serial},
                      {"not_before_unix", e.not_before_unix},
                      {"not_after_unix", e.not_after_unix}};
  j["revoked_at_unix"] = e.revoked_at_unix ? nlohmann::json(*e.revoked_at_unix) : nlohmann::json();
  return j;
}

// One entry, each field's type checked first: nlohmann's value() and get()
// throw on a wrong type, and nothing in a file may abort the daemon.
Result<LedgerEntry> parse_entry(const nlohmann::json& j, std::string_view origin) {
  auto bad = [&](std::string_view what) {
    return Error(Errc::IoFailed, fmt::format("{} {}", origin, what));
  };
  if (!j.is_object()) return bad("is not an object");
  LedgerEntry e;
  auto text = [&](const char* key, std::string& out, bool required) -> Status {
    auto it = j.find(key);
    if (it == j.end() && !required) return {};
    if (it == j.end() || !it->is_string()) return bad(fmt::format("has no string '{}'", key));
    out = it->get<std::string>();
    return {};
  };
  auto integer = [&](const char* key, auto& out) -> Status {
    auto it = j.find(key);
    if (it == j.end()) return {};
    using T = std::remove_reference_t<decltype(out)>;
    if (!it->is_number_integer() || (std::is_unsigned_v<T> && !it->is_number_unsigned())) {
      return bad(fmt::format("'{}' is not an integer", key));
    }
    out = it->get<T>();
    return {};
  };
  // A time is a count of seconds a SystemTime can hold.
  auto time = [&](const char* key, std::int64_t& out) -> Status {
    auto it = j.find(key);
    if (it == j.end()) return {};
    bool in_range = false;
    if (it->is_number_unsigned()) {
      in_range = it->get<std::uint64_t>() <= static_cast<std::uint64_t>(kMaxUnix);
    } else if (it->is_number_integer()) {
      in_range = it->get<std::int64_t>() >= -kMaxUnix;
    }
    if (!in_range) return bad(fmt::format("'{}' is not a time in seconds since 1970", key));
    out = it->get<std::int64_t>();
    return {};
  };
  PALYRA_TRY(text("fingerprint", e.fingerprint, true));
  PALYRA_TRY(text("kind", e.kind, false));
  PALYRA_TRY(text("subject", e.subject, false));
  PALYRA_TRY(text("device_id", e.device_id, false));
  PALYRA_TRY(text("serial", e.serial, false));
  PALYRA_TRY(integer("sequence", e.sequence));
  PALYRA_TRY(time("not_before_unix", e.not_before_unix));
  PALYRA_TRY(time("not_after_unix", e.not_after_unix));
  if (auto it = j.find("revoked_at_unix"); it != j.end() && !it->is_null()) {
    std::int64_t revoked_at = 0;
    PALYRA_TRY(time("revoked_at_unix", revoked_at));
    e.revoked_at_unix = revoked_at;
  }
  return e;
}

}  // namespace

Result<Ledger> Ledger::load(const std::filesystem::path& file) {
  auto text = read_file(file);
  if (!text) {
    if (text.error().code() != Errc::NotFound) return std::move(text).error();
    Ledger empty;
    empty.file_ = file;
    return empty;
  }
  return parse(*text, file);
}

Result<Ledger> Ledger::parse(std::string_view text, const std::filesystem::path& file) {
  Ledger ledger;
  ledger.file_ = file;
  // nlohmann's lexer takes a NUL byte for the end of the input: what follows
  // one would be dropped silently, and gone at the next save.
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    return Error(Errc::IoFailed,
                 fmt::format("ledger '{}' holds a NUL byte at offset {}", file.string(), nul));
  }
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_array()) {
    return Error(Errc::IoFailed, fmt::format("ledger '{}' is not a JSON array", file.string()));
  }
  std::size_t index = 0;
  for (const auto& j : json) {
    auto entry = parse_entry(j, fmt::format("ledger '{}': entry {}", file.string(), index++));
    if (!entry) return std::move(entry).error();
    ledger.entries_.push_back(std::move(*entry));
  }
  return ledger;
}

LedgerEntry ledger_entry_for(std::string kind, const Certificate& certificate) {
  LedgerEntry e;
  e.kind = std::move(kind);
  e.subject = certificate.common_name();
  e.device_id = certificate.device_id();
  e.fingerprint = certificate.fingerprint();
  e.serial = certificate.serial_hex();
  e.not_before_unix = unix_seconds(certificate.not_before());
  e.not_after_unix = unix_seconds(certificate.not_after());
  return e;
}

std::string ledger_entry_json(const LedgerEntry& entry) {
  return to_json_entry(entry).dump();
}

Result<LedgerEntry> parse_ledger_entry(std::string_view text, std::string_view origin) {
  if (text.find('\0') != std::string_view::npos) {
    return Error(Errc::IoFailed, fmt::format("{} holds a NUL byte", origin));
  }
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Error(Errc::IoFailed, fmt::format("{} is not JSON", origin));
  return parse_entry(json, origin);
}

const LedgerEntry& Ledger::record(std::string kind, const Certificate& certificate) {
  LedgerEntry e = ledger_entry_for(std::move(kind), certificate);
  e.sequence = entries_.empty() ? 1 : entries_.back().sequence + 1;
  entries_.push_back(std::move(e));
  return entries_.back();
}

LedgerEntry* Ledger::find(std::string_view fingerprint) {
  for (auto& e : entries_) {
    if (e.fingerprint == fingerprint) return &e;
  }
  return nullptr;
}

std::string Ledger::to_json() const {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& e : entries_) array.push_back(to_json_entry(e));
  return array.dump(2) + "\n";
}

Status Ledger::save() const {
  return write_file_atomically(file_, to_json(), 0644);
}

}  // namespace palyra::identity
