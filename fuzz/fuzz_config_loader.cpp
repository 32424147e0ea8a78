// Arbitrary bytes as palyrad's TOML configuration file: the loader must
// return a configuration or one ConfigInvalid line, never crash, throw or
// hang. A configuration it accepts is a valid one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "../src/daemon/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = palyra::daemon::load_config_text(text, "palyrad.toml");
  if (!config) {
    const auto& message = config.error().message();
    if (config.error().code() != palyra::Errc::ConfigInvalid || message.empty() ||
        message.find('\n') != std::string::npos) {
      std::abort();  // one ConfigInvalid line, always
    }
    return 0;
  }
  if (config->max_connections == 0 || config->idle_timeout_ms <= config->keep_alive_ms ||
      config->handshake_timeout_ms == 0 || config->enrollment_device_validity.count() <= 0) {
    std::abort();  // validate() let an invalid configuration through
  }
  return 0;
}
