// Arbitrary bytes as the issuance ledger (ledger.json): Ledger::parse must
// return entries or one line naming the file, never throw (nlohmann's get()
// and value() do on a wrong type) or crash. A ledger it accepts, written out
// again, parses to the same entries.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "palyra/identity/ledger.hpp"

namespace {

bool same(const palyra::identity::LedgerEntry& a, const palyra::identity::LedgerEntry& b) {
  return a.sequence == b.sequence && a.kind == b.kind && a.subject == b.subject &&
         a.device_id == b.device_id && a.fingerprint == b.fingerprint && a.serial == b.serial &&
         a.not_before_unix == b.not_before_unix && a.not_after_unix == b.not_after_unix &&
         a.revoked_at_unix == b.revoked_at_unix;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ledger = palyra::identity::Ledger::parse(text, "ledger.json");
  if (!ledger) {
    const auto& message = ledger.error().message();
    if (message.find("ledger.json") == std::string::npos ||
        message.find('\n') != std::string::npos) {
      std::abort();
    }
    return 0;
  }
  if (text.find('\0') != std::string_view::npos) std::abort();  // would drop what follows it
  auto again = palyra::identity::Ledger::parse(ledger->to_json(), "ledger.json");
  if (!again || again->entries().size() != ledger->entries().size()) std::abort();
  for (std::size_t i = 0; i < ledger->entries().size(); ++i) {
    if (!same(ledger->entries()[i], again->entries()[i])) std::abort();
  }
  return 0;
}
