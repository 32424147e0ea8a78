#include "palyra/transport/io/impairment.hpp"

namespace palyra::transport {

void DatagramImpairer::process(const SocketAddress& from, std::span<const std::uint8_t> datagram,
                               const Deliver& deliver) {
  if (roll(settings_.loss)) {
    ++dropped_;
    return;
  }
  if (!held_ && roll(settings_.reorder)) {
    held_.emplace(from, std::vector<std::uint8_t>(datagram.begin(), datagram.end()));
    return;
  }
  deliver(from, datagram);
  if (roll(settings_.duplicate)) deliver(from, datagram);
  if (held_) {
    auto held = std::move(*held_);
    held_.reset();
    deliver(held.first, held.second);
  }
}

}  // namespace palyra::transport
