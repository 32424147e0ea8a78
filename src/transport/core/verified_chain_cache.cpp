#include "verified_chain_cache.hpp"

#include <gnutls/crypto.h>

#include <algorithm>

namespace palyra::transport {

VerifiedChainCache::Key VerifiedChainCache::key_of(
    std::span<const std::span<const unsigned char>> chain) {
  gnutls_hash_hd_t hash = nullptr;
  Key key(32, '\0');
  if (gnutls_hash_init(&hash, GNUTLS_DIG_SHA256) != 0) return {};
  for (const auto& certificate : chain) {
    // Length first, so two different chains can never hash the same bytes.
    const auto length = static_cast<std::uint32_t>(certificate.size());
    gnutls_hash(hash, &length, sizeof length);
    gnutls_hash(hash, certificate.data(), certificate.size());
  }
  gnutls_hash_deinit(hash, key.data());
  return key;
}

std::optional<std::string> VerifiedChainCache::find(const Key& key, std::time_t now) const {
  if (key.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto found = entries_.find(key);
  if (found == entries_.end() || now < found->second.from || now > found->second.until) {
    return std::nullopt;
  }
  return found->second.common_name;
}

void VerifiedChainCache::insert(const Key& key, std::time_t not_before, std::time_t not_after,
                                std::string common_name, std::time_t now) {
  if (key.empty()) return;
  std::lock_guard lock(mutex_);
  // Full: start over. Re-verifying is only slower, and this keeps the
  // bound trivial to reason about.
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[key] = Entry{not_before, std::min<std::time_t>(not_after, now + kMaxAge.count()),
                        std::move(common_name)};
}

std::size_t VerifiedChainCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace palyra::transport
