// Crash-safe file replacement: write a temporary file beside the target,
// fsync it, rename it over the target, fsync the directory. A crash leaves
// either the old file or the new one, never a mix.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "palyra/common/result.hpp"

namespace palyra {

// The file is created with `mode` (e.g. 0600 for private keys) from the
// start, never widened; an existing file is replaced, so a wider mode it had
// is gone. Done only once the directory entry is synced too. IoFailed (NotFound
// when the directory does not exist) with the path and errno text; after a
// failed directory fsync the new file may be in place but is not durable.
Status write_file_atomically(const std::filesystem::path& path, std::string_view contents,
                             mode_t mode = 0644);

// Reads a whole file. IoFailed (NotFound when it does not exist) with the path.
Result<std::string> read_file(const std::filesystem::path& path);

// Creates a directory (and missing parents) with mode 0700. An existing one
// of ours is narrowed to owner-only; one owned by another user, or sticky
// (/tmp), is left as it is. IoFailed naming the path when it is not a
// directory, or cannot be created or narrowed.
Status ensure_private_directory(const std::filesystem::path& path);

// An existing directory this process may create files in (for files that
// land there one by one, such as qlog traces). NotFound when it does not
// exist; IoFailed naming the path when it is not a directory or not
// writable.
Status check_writable_directory(const std::filesystem::path& path);

}  // namespace palyra
