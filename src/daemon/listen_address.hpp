// A listener's address as the configuration gives it: "HOST:PORT", IPv6 in
// brackets ("[::1]:9744"), port 0 for any free port.
#pragma once

#include <string>
#include <string_view>

#include "palyra/common/result.hpp"

namespace palyra::daemon {

// Ok when `value` is empty (the listener is off) or HOST:PORT; otherwise
// ConfigInvalid naming `key` and the value.
Status check_listen_address(std::string_view key, const std::string& value);

}  // namespace palyra::daemon
