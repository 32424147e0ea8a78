// qlog traces on disk: one file per connection in a directory the operator
// names (palyrad's diagnostics.qlog_dir, the CLI's --qlog-dir), for qvis
// and other qlog tools.
#pragma once

#include <filesystem>
#include <functional>

#include "palyra/common/result.hpp"
#include "palyra/transport/qlog_sink.hpp"

namespace palyra::transport {

// Told once per trace that could not be kept (its file could not be created
// or written), with the file and the reason; the connection goes on
// untraced. Runs on the loop's thread.
using QlogWarning = std::function<void(const Error&)>;

// A factory for Server::set_qlog and ConnectOptions::qlog: each connection
// gets `dir`/<its source connection ID in hex>.sqlog, as ngtcp2's example
// server names them. Files are created owner-only (0600: a trace shows
// addresses, connection IDs and the size of every packet), never replace an
// existing file, and are written through a buffer on the loop's thread —
// a diagnostic mode, not one to leave on under load — and closed when the
// trace ends or the connection is destroyed.
// NotFound or IoFailed (check_writable_directory) when `dir` is not a
// directory files can be created in.
Result<QlogSinkFactory> qlog_files(const std::filesystem::path& dir, QlogWarning warn);

}  // namespace palyra::transport
