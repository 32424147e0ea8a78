// Where a connection's qlog goes: the trace of every packet and frame sent
// and received, as ngtcp2 writes it (JSON-SEQ, qlog 0.3: records that each
// begin with 0x1e and end with a newline, the first being the header), for
// tools such as qvis. The core only hands the bytes on; the endpoint's
// owner decides where they are kept (io's qlog_files writes one file per
// connection), so the core stays free of I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

namespace palyra::transport {

class QlogSink {
 public:
  virtual ~QlogSink() = default;
  // The next bytes of the trace, in order, while ngtcp2 runs: do not call
  // back into the connection. `fin` marks the last call for the connection
  // (its data may be empty); nothing follows it. A connection that never
  // reaches the end destroys its sink without a `fin`.
  virtual void write(std::span<const std::uint8_t> data, bool fin) = 0;
};

// Makes the sink of a new connection, named by the connection ID the
// connection chose for itself (its first source connection ID, lowercase
// hex): unique per endpoint and never chosen by the peer. Null: this
// connection is not traced (e.g. its file could not be opened).
using QlogSinkFactory = std::function<std::unique_ptr<QlogSink>(std::string_view scid_hex)>;

}  // namespace palyra::transport
