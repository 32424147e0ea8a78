// The checks a configuration passes once every source is applied (values
// that depend on each other, names from closed lists, addresses), and how a
// value is quoted in their errors.
#pragma once

#include <string>
#include <string_view>

#include "config.hpp"
#include "palyra/common/result.hpp"

namespace palyra::daemon {

// ConfigInvalid naming the setting and its value.
Status validate(const Config& config);

// A value quoted in an error, control bytes escaped: errors are one line.
std::string printable(std::string_view value);

}  // namespace palyra::daemon
