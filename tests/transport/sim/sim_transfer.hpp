// The application over the simulated network, as the interop runner's
// client and server: the client asks for `files` files, one stream each (a
// request frame naming the file), and the server answers each with the
// file's bytes in length-prefixed frames and a FIN, writing no further
// ahead than a high-water mark of unacknowledged bytes. The client checks
// every byte against the file's contents (a function of file and offset),
// in order, and that each file ends exactly at its size.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "palyra/transport/connection.hpp"

namespace palyra::transport::sim {

struct TransferPlan {
  std::size_t files = 1;
  std::uint64_t file_bytes = 0;
  std::size_t frame_bytes = 16 * 1024;
  // The server stops writing a file while this much of it is unacknowledged.
  std::uint64_t high_water = 256 * 1024;
};

class Transfer {
 public:
  explicit Transfer(TransferPlan plan)
      : plan_(plan), received_(plan.files, 0), file_ended_(plan.files, false) {}

  // Installs the server's side on a connection just accepted.
  void serve(Connection& server);
  // Installs the client's side; requests go out once it is established.
  void request(Connection& client);

  // Every file arrived whole, and nothing arrived wrong.
  bool complete() const noexcept { return files_done_ == plan_.files && failures_.empty(); }
  bool failed() const noexcept { return !failures_.empty(); }
  // What went wrong, for the test's message.
  std::string failures() const;
  std::uint64_t bytes_received() const noexcept { return bytes_received_; }

  // The byte at `offset` of file `file`.
  static std::uint8_t content(std::size_t file, std::uint64_t offset) noexcept;

 private:
  struct Upload {
    std::size_t file;
    std::uint64_t written = 0;
  };

  void open_requests(Connection& client);
  void on_client_readable(Stream& stream);
  void on_server_readable(Stream& stream);
  void write_file(Stream& stream);
  void fail(std::string what);

  TransferPlan plan_;
  // Client side.
  std::size_t files_requested_ = 0;
  std::size_t files_done_ = 0;
  std::map<std::int64_t, std::size_t> file_of_stream_;
  std::vector<std::uint64_t> received_;  // bytes checked so far, per file
  std::vector<bool> file_ended_;
  std::uint64_t bytes_received_ = 0;
  // Server side: what each response stream still has to write.
  std::map<std::int64_t, Upload> uploads_;
  std::vector<std::string> failures_;
};

}  // namespace palyra::transport::sim
