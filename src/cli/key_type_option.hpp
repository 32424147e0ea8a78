// --key-type: the same option on every command that generates a key
// (init, ca init, ca rotate, cert server, cert device, enroll).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "palyra/common/result.hpp"
#include "palyra/identity/key_type.hpp"

namespace palyra::cli {

// `if_absent` says what the command does without the option.
inline void add_key_type_option(CLI::App& command, std::string& value, std::string_view if_absent) {
  command.add_option(
      "--key-type", value,
      std::string("p256 (ECDSA P-256) or ed25519; default: ") + std::string(if_absent));
}

// The option's value; nullopt when it was not given. InvalidArgument (a
// usage error, one line) for anything but p256 or ed25519.
inline Result<std::optional<identity::KeyType>> key_type_option(const std::string& value) {
  if (value.empty()) return std::optional<identity::KeyType>();
  auto type = identity::parse_key_type(value);
  if (!type) return std::move(type).error();
  return std::optional<identity::KeyType>(*type);
}

}  // namespace palyra::cli
