// The NATS handles and errors the journal shares with the cluster's
// key-value buckets (src/cluster/nats_handles.hpp), in the journal's namespace.
#pragma once

#include "../../cluster/nats_handles.hpp"

namespace palyra::journal::jetstream {

using cluster::nats_error;
using cluster::NatsDeleter;
using cluster::NatsPtr;

}  // namespace palyra::journal::jetstream
