// The revocation index: fingerprints of client certificates the daemon
// refuses in the handshake. Persisted as a text file (one fingerprint per
// line, '#' comments) in the state directory.
//
// Lookups are cheap and thread-safe (every handshake asks, on the event
// loop); reload() swaps in a new immutable snapshot, so a reader never
// waits for a writer.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "palyra/common/result.hpp"

namespace palyra::identity {

class RevocationIndex {
 public:
  // A missing file is an empty index. IoFailed, naming the file and, when a
  // line is not a fingerprint, the line.
  static Result<std::shared_ptr<RevocationIndex>> load(const std::filesystem::path& file);

  bool is_revoked(std::string_view fingerprint) const noexcept;
  std::size_t size() const noexcept;

  // Re-reads the file; returns the fingerprints revoked since the last load
  // (the daemon closes their live connections). On error the old snapshot stays.
  Result<std::vector<std::string>> reload();

  // Adds fingerprints revoked elsewhere (the cluster) to the index, in
  // memory only; returns those it did not hold yet. InvalidArgument for a
  // malformed fingerprint (nothing is added then).
  Result<std::vector<std::string>> merge(const std::vector<std::string>& fingerprints);

  // Every fingerprint the index refuses, the file's and the merged ones.
  std::vector<std::string> fingerprints() const;

  // Adds fingerprints to the file (atomically rewritten) and to the index.
  // InvalidArgument for a malformed fingerprint.
  Status add(const std::vector<std::string>& fingerprints);

 private:
  using Set = std::unordered_set<std::string>;
  explicit RevocationIndex(std::filesystem::path file) : file_(std::move(file)) {}
  std::shared_ptr<const Set> snapshot() const noexcept;

  std::filesystem::path file_;
  mutable std::mutex mutex_;  // guards the pointer swap and merged_
  std::shared_ptr<const Set> set_ = std::make_shared<Set>();
  Set merged_;  // from merge(): kept across reloads
};

// Parses the file format; IoFailed naming `origin`, the line number and the
// line (control bytes escaped, long lines cut).
Result<std::vector<std::string>> parse_revocation_list(std::string_view text,
                                                       const std::filesystem::path& origin);

}  // namespace palyra::identity
