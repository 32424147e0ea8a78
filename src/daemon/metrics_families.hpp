// A MetricsSnapshot as Prometheus metric families: names, help, types and
// labels in one place (docs/OPERATIONS.md, "Monitoring", lists the same).
#pragma once

#include <prometheus/metric_family.h>

#include <string_view>
#include <vector>

#include "metrics_snapshot.hpp"

namespace palyra::daemon {

std::vector<prometheus::MetricFamily> metric_families(const MetricsSnapshot& snapshot,
                                                      std::string_view version);

}  // namespace palyra::daemon
