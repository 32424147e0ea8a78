// The daemon's long-term QUIC secret (PROTOCOL.md §8) in its state
// directory: stateless reset tokens and Retry tokens are derived from it, so
// after a restart the daemon still resets the connections of its previous
// life at once instead of leaving them to their idle timeout.
#pragma once

#include <filesystem>

#include "palyra/common/result.hpp"
#include "palyra/transport/server_secret.hpp"

namespace palyra::daemon {

// Reads the 32-byte secret at `path`, or creates it (0600, atomically) when
// there is none. ConfigInvalid, naming the path and the fix, when it is not
// a regular file, is readable by group or others, or has another size;
// IoFailed when it cannot be read or written.
Result<transport::ServerSecret> load_or_create_server_secret(const std::filesystem::path& path);

}  // namespace palyra::daemon
