#include "palyra/identity/revocation.hpp"

#include <fmt/format.h>

#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/fingerprint.hpp"

namespace palyra::identity {
namespace {

// A line of the file quoted in an error: control bytes escaped and long
// lines cut, so the error stays one readable line.
std::string quoted(std::string_view line) {
  constexpr std::size_t kShown = 72;  // characters shown, an escape counting as four
  std::string out = "'";
  std::size_t used = 0;
  for (; used < line.size() && out.size() <= kShown; ++used) {
    const char c = line[used];
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += used < line.size() ? "'..." : "'";
  return out;
}

}  // namespace

Result<std::vector<std::string>> parse_revocation_list(std::string_view text,
                                                       const std::filesystem::path& origin) {
  std::vector<std::string> out;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto fingerprint = normalize_fingerprint(line);
    if (!fingerprint) {
      auto first = line.find_first_not_of(" \t\r");
      auto last = line.find_last_not_of(" \t\r");
      return Error(
          Errc::IoFailed,
          fmt::format("{}:{}: {} is not a SHA-256 fingerprint (64 hex digits)", origin.string(),
                      line_number, quoted(line.substr(first, last - first + 1))));
    }
    out.push_back(std::move(*fingerprint));
  }
  return out;
}

Result<std::shared_ptr<RevocationIndex>> RevocationIndex::load(const std::filesystem::path& file) {
  std::shared_ptr<RevocationIndex> index(new RevocationIndex(file));
  auto newly = index->reload();
  if (!newly) return std::move(newly).error();
  return index;
}

std::shared_ptr<const RevocationIndex::Set> RevocationIndex::snapshot() const noexcept {
  std::lock_guard lock(mutex_);
  return set_;
}

bool RevocationIndex::is_revoked(std::string_view fingerprint) const noexcept {
  auto set = snapshot();
  return set->find(std::string(fingerprint)) != set->end();
}

std::size_t RevocationIndex::size() const noexcept {
  return snapshot()->size();
}

Result<std::vector<std::string>> RevocationIndex::reload() {
  auto text = read_file(file_);
  std::vector<std::string> listed;
  if (text) {
    auto parsed = parse_revocation_list(*text, file_);
    if (!parsed) return std::move(parsed).error();
    listed = std::move(*parsed);
  } else if (text.error().code() != Errc::NotFound) {
    return std::move(text).error();
  }
  auto next = std::make_shared<Set>(listed.begin(), listed.end());
  std::lock_guard lock(mutex_);
  next->insert(merged_.begin(), merged_.end());
  std::vector<std::string> added;
  for (const auto& fingerprint : *next) {
    if (set_->find(fingerprint) == set_->end()) added.push_back(fingerprint);
  }
  set_ = std::move(next);
  return added;
}

Result<std::vector<std::string>> RevocationIndex::merge(
    const std::vector<std::string>& fingerprints) {
  std::vector<std::string> normalized;
  for (const auto& f : fingerprints) {
    auto n = normalize_fingerprint(f);
    if (!n) return std::move(n).error();
    normalized.push_back(std::move(*n));
  }
  std::lock_guard lock(mutex_);
  auto next = std::make_shared<Set>(*set_);
  std::vector<std::string> added;
  for (auto& f : normalized) {
    merged_.insert(f);
    if (next->insert(f).second) added.push_back(std::move(f));
  }
  if (!added.empty()) set_ = std::move(next);
  return added;
}

std::vector<std::string> RevocationIndex::fingerprints() const {
  auto set = snapshot();
  return {set->begin(), set->end()};
}

Status RevocationIndex::add(const std::vector<std::string>& fingerprints) {
  std::vector<std::string> normalized;
  for (const auto& f : fingerprints) {
    auto n = normalize_fingerprint(f);
    if (!n) return std::move(n).error();
    normalized.push_back(std::move(*n));
  }
  auto text = read_file(file_);
  std::string contents;
  if (text) {
    contents = std::move(*text);
  } else if (text.error().code() != Errc::NotFound) {
    return std::move(text).error();
  } else {
    contents = "# Revoked client certificates: SHA-256 fingerprints, one per line.\n";
  }
  if (!contents.empty() && contents.back() != '\n') contents += '\n';
  auto current = snapshot();
  for (const auto& f : normalized) {
    if (current->find(f) == current->end()) contents += f + "\n";
  }
  PALYRA_TRY(write_file_atomically(file_, contents, 0644));
  auto reloaded = reload();
  if (!reloaded) return std::move(reloaded).error();
  return {};
}

}  // namespace palyra::identity
