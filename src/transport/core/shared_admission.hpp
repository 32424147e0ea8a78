// The daemon-wide admission counts the workers share (ARCHITECTURE.md,
// Workers): open connections against max_connections and handshakes in
// progress against max_handshakes. A worker reserves both before it accepts
// a client, so the caps hold across workers however their Initials race;
// it frees each as the handshake ends and as the connection goes.
#pragma once

#include <atomic>
#include <cstddef>

namespace palyra::transport {

class SharedAdmission {
 public:
  SharedAdmission(std::size_t max_connections, std::size_t max_handshakes) noexcept
      : max_connections_(max_connections), max_handshakes_(max_handshakes) {}

  // Thread-safe. Reserves a connection and a handshake; false, reserving
  // nothing, when either is at its cap.
  bool try_admit() noexcept;
  // The admitted connection's handshake ended (established or failed).
  void handshake_ended() noexcept;
  // The admitted connection is gone.
  void connection_closed() noexcept;

  std::size_t connections() const noexcept { return connections_.load(); }
  std::size_t handshakes() const noexcept { return handshakes_.load(); }

 private:
  const std::size_t max_connections_;
  const std::size_t max_handshakes_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> handshakes_{0};
};

}  // namespace palyra::transport
