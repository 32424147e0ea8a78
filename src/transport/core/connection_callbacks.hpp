// ngtcp2's callbacks for a Connection: the C functions ngtcp2 calls, which
// forward each event to the Connection in their user data.
#pragma once

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

namespace palyra::transport {

// The callback table for a server's or a client's connection.
ngtcp2_callbacks connection_callbacks(bool is_server);

// For ngtcp2_crypto_conn_ref::get_conn: the ngtcp2_conn of the Connection in
// ref->user_data.
ngtcp2_conn* connection_of(ngtcp2_crypto_conn_ref* ref);

}  // namespace palyra::transport
