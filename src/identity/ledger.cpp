#include "palyra/identity/ledger.hpp"

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "palyra/common/atomic_file.hpp"

namespace palyra::identity {
namespace {

std::int64_t unix_seconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

nlohmann::json to_json_entry(const LedgerEntry& e) {
  nlohmann::json j = {{"sequence", e.sequence},       {"kind", e.kind},
                      {"subject", e.subject},         {"device_id", e.device_id},
                      {"fingerprint", e.fingerprint}, {"serial", e.serial},
                      {"not_before_unix", e.not_before_unix},
                      {"not_after_unix", e.not_after_unix}};
  j["revoked_at_unix"] = e.revoked_at_unix ? nlohmann::json(*e.revoked_at_unix) : nlohmann::json();
  return j;
}

}  // namespace

Result<Ledger> Ledger::load(const std::filesystem::path& file) {
  Ledger ledger;
  ledger.file_ = file;
  auto text = read_file(file);
  if (!text) {
    if (text.error().code() == Errc::NotFound) return ledger;
    return std::move(text).error();
  }
  auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_array()) {
    return Error(Errc::IoFailed, fmt::format("ledger '{}' is not a JSON array", file.string()));
  }
  for (const auto& j : json) {
    if (!j.is_object() || !j.contains("fingerprint") || !j["fingerprint"].is_string()) {
      return Error(Errc::IoFailed, fmt::format("ledger '{}' has a malformed entry", file.string()));
    }
    LedgerEntry e;
    e.sequence = j.value("sequence", std::uint64_t{0});
    e.kind = j.value("kind", "");
    e.subject = j.value("subject", "");
    e.device_id = j.value("device_id", "");
    e.fingerprint = j.value("fingerprint", "");
    e.serial = j.value("serial", "");
    e.not_before_unix = j.value("not_before_unix", std::int64_t{0});
    e.not_after_unix = j.value("not_after_unix", std::int64_t{0});
    if (j.contains("revoked_at_unix") && j["revoked_at_unix"].is_number_integer()) {
      e.revoked_at_unix = j["revoked_at_unix"].get<std::int64_t>();
    }
    ledger.entries_.push_back(std::move(e));
  }
  return ledger;
}

const LedgerEntry& Ledger::record(std::string kind, const Certificate& certificate) {
  LedgerEntry e;
  e.sequence = entries_.empty() ? 1 : entries_.back().sequence + 1;
  e.kind = std::move(kind);
  e.subject = certificate.common_name();
  e.device_id = certificate.device_id();
  e.fingerprint = certificate.fingerprint();
  e.serial = certificate.serial_hex();
  e.not_before_unix = unix_seconds(certificate.not_before());
  e.not_after_unix = unix_seconds(certificate.not_after());
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

Status Ledger::save() const { return write_file_atomically(file_, to_json(), 0644); }

}  // namespace palyra::identity
