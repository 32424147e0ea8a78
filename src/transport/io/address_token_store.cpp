#include "palyra/transport/io/address_token_store.hpp"

namespace palyra::transport {

std::optional<std::string> AddressTokenStore::take(const SocketAddress& server,
                                                   std::string_view server_name) {
  std::lock_guard lock(mutex_);
  auto it = tokens_.find(Key(server.to_string(), server_name));
  if (it == tokens_.end()) return std::nullopt;
  std::string token = std::move(it->second);
  tokens_.erase(it);
  return token;
}

void AddressTokenStore::keep(const SocketAddress& server, std::string_view server_name,
                             std::string token) {
  std::lock_guard lock(mutex_);
  tokens_[Key(server.to_string(), server_name)] = std::move(token);
}

std::size_t AddressTokenStore::size() const {
  std::lock_guard lock(mutex_);
  return tokens_.size();
}

}  // namespace palyra::transport
