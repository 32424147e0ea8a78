// One connection to the NATS cluster with the gateway's settings: every
// server url, TLS with the CA and the client certificate when configured,
// reconnecting without end (a gateway outlives a server's restart).
#pragma once

#include <string_view>

#include "nats_handles.hpp"
#include "palyra/cluster/nats_servers.hpp"

namespace palyra::cluster {

// `name` is what the servers show for this client (`nats-server` logs,
// connz). StorageFailed naming the first url and the library's reason
// (for TLS: the file that would not load, or the handshake's failure).
Result<NatsPtr<natsConnection>> connect_nats(const NatsServers& servers, std::string_view name);

}  // namespace palyra::cluster
