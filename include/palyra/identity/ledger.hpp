// The issuance ledger: every certificate the gateway CA issued, with its
// revocation time once revoked. A JSON file, rewritten atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/identity/certificate.hpp"

namespace palyra::identity {

struct LedgerEntry {
  std::uint64_t sequence = 0;
  std::string kind;  // "ca", "server" or "device"
  std::string subject;
  std::string device_id;  // devices only
  std::string fingerprint;
  std::string serial;
  std::int64_t not_before_unix = 0;
  std::int64_t not_after_unix = 0;
  std::optional<std::int64_t> revoked_at_unix;
};

// The entry for a certificate just issued, sequence 0 (Ledger::record
// numbers it).
LedgerEntry ledger_entry_for(std::string kind, const Certificate& certificate);
// One entry as a JSON object (the file's form), and back: IoFailed naming
// `origin` and the field that is wrong.
std::string ledger_entry_json(const LedgerEntry& entry);
Result<LedgerEntry> parse_ledger_entry(std::string_view json, std::string_view origin);

class Ledger {
 public:
  // A missing file is an empty ledger; a corrupt one is IoFailed naming it.
  static Result<Ledger> load(const std::filesystem::path& file);
  // The file's contents; `file` is where save() writes and what errors name.
  // IoFailed naming the file and the entry that is wrong.
  static Result<Ledger> parse(std::string_view text, const std::filesystem::path& file);

  const std::vector<LedgerEntry>& entries() const noexcept { return entries_; }
  // Appends an entry for `certificate` with the next sequence number.
  const LedgerEntry& record(std::string kind, const Certificate& certificate);
  LedgerEntry* find(std::string_view fingerprint);
  Status save() const;

  std::string to_json() const;

 private:
  std::filesystem::path file_;
  std::vector<LedgerEntry> entries_;
};

}  // namespace palyra::identity
