#include "palyra/common/clock.hpp"

namespace palyra {
namespace {

class SystemClock final : public Clock {
 public:
  SystemTime now() const noexcept override { return std::chrono::system_clock::now(); }
  SteadyTime steady_now() const noexcept override { return std::chrono::steady_clock::now(); }
};

}  // namespace

std::shared_ptr<const Clock> system_clock() {
  static const auto clock = std::make_shared<const SystemClock>();
  return clock;
}

}  // namespace palyra
