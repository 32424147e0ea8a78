#include "nats_connection.hpp"

#include <string>
#include <vector>

namespace palyra::cluster {

namespace {

Status apply_tls(natsOptions* options, const NatsTls& tls) {
  if (!tls.enabled()) return {};
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return Error(Errc::InvalidArgument,
                 "NATS TLS: a client certificate needs its key and a key its certificate");
  }
  natsStatus status = natsOptions_SetSecure(options, true);
  if (status != NATS_OK) return nats_error("NATS TLS", status);
  if (!tls.ca_file.empty()) {
    status = natsOptions_LoadCATrustedCertificates(options, tls.ca_file.c_str());
    if (status != NATS_OK) return nats_error("NATS TLS CA " + tls.ca_file.string(), status);
  }
  if (!tls.cert_file.empty()) {
    status =
        natsOptions_LoadCertificatesChain(options, tls.cert_file.c_str(), tls.key_file.c_str());
    if (status != NATS_OK) {
      return nats_error(
          "NATS TLS client certificate " + tls.cert_file.string() + " / " + tls.key_file.string(),
          status);
    }
  }
  return {};
}

}  // namespace

Result<NatsPtr<natsConnection>> connect_nats(const NatsServers& servers, std::string_view name) {
  if (servers.urls.empty() || servers.request_timeout.count() <= 0) {
    return Error(Errc::InvalidArgument, "NATS needs server urls and a request timeout > 0");
  }
  natsOptions* raw = nullptr;
  natsStatus status = natsOptions_Create(&raw);
  NatsPtr<natsOptions> options(raw);
  std::vector<const char*> urls;
  for (const auto& url : servers.urls) urls.push_back(url.c_str());
  const std::string client_name(name);
  if (status == NATS_OK)
    status = natsOptions_SetServers(options.get(), urls.data(), static_cast<int>(urls.size()));
  if (status == NATS_OK) status = natsOptions_SetName(options.get(), client_name.c_str());
  if (status == NATS_OK)
    status = natsOptions_SetTimeout(options.get(), servers.request_timeout.count());
  // Keep trying the cluster's servers: a gateway outlives a server restart.
  if (status == NATS_OK) status = natsOptions_SetMaxReconnect(options.get(), -1);
  if (status != NATS_OK) return nats_error("NATS options", status);
  PALYRA_TRY(apply_tls(options.get(), servers.tls));

  // The library copies the options into the connection.
  natsConnection* connection = nullptr;
  status = natsConnection_Connect(&connection, options.get());
  NatsPtr<natsConnection> owned(connection);
  if (status != NATS_OK) return nats_error("connecting to " + servers.urls.front(), status);
  return owned;
}

}  // namespace palyra::cluster
