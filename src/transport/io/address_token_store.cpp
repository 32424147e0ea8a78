#include "palyra/transport/io/address_token_store.hpp"

namespace palyra::transport {

std::optional<std::string> AddressTokenStore::token_for(const SocketAddress& server,
                                                        std::string_view server_name) const {
  std::lock_guard lock(mutex_);
  auto it = tokens_.find(Key(server.to_string(), server_name));
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
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
