// Crash-safe file replacement: write a temporary file beside the target,
// fsync it, rename it over the target, fsync the directory. A crash leaves
// either the old file or the new one, never a mix.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "palyra/common/result.hpp"

namespace palyra {

// The file is created with `mode` (e.g. 0600 for private keys) from the
// start, never widened. IoFailed with the path and errno text.
Status write_file_atomically(const std::filesystem::path& path, std::string_view contents,
                             mode_t mode = 0644);

// Reads a whole file. IoFailed (NotFound when it does not exist) with the path.
Result<std::string> read_file(const std::filesystem::path& path);

// Creates a directory (and parents) with mode 0700 when missing.
Status ensure_private_directory(const std::filesystem::path& path);

}  // namespace palyra
