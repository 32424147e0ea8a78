#include "gateway_failover.hpp"

#include <fmt/format.h>

#include <iostream>

namespace palyra::cli {

bool is_local_failure(const Error& error) noexcept {
  switch (error.code()) {
    case Errc::InvalidArgument:
    case Errc::IoFailed:
    case Errc::NotFound:
    case Errc::ConfigInvalid:
    case Errc::Internal:
    case Errc::CertificateParsingFailed:
    case Errc::PrivateKeyParsingFailed:
    case Errc::KeyCertificateMismatch:
    case Errc::UnsupportedKeyType:
    case Errc::InvalidServerName:
    case Errc::ClientIdentityIncomplete:
    case Errc::MissingClientIdentity:
    case Errc::InvalidIdleTimeout:
    case Errc::TlsConfigurationFailed:
    case Errc::EndpointBindFailed:
      return true;
    default:
      return false;
  }
}

bool lost_the_gateway(const Error& error) noexcept {
  switch (error.code()) {
    case Errc::HandshakeTimeout:
    case Errc::ConnectStartFailed:
    case Errc::ConnectionClosed:
    case Errc::StreamReset:
    case Errc::Timeout:
    case Errc::FrameReadFailed:
      return true;
    default:
      return false;
  }
}

Error no_gateway_answered(const ResolvedConnection& c,
                          const std::vector<std::pair<std::size_t, Error>>& failures) {
  auto where = [&c](std::size_t index) {
    const Gateway& gateway = c.gateways.at(index);
    return fmt::format("{} (server name {})", gateway.address.to_string(), gateway.server_name);
  };
  if (failures.size() == 1) {
    const auto& [index, error] = failures.front();
    return Error(error.code(),
                 fmt::format("cannot connect to {}: {}", where(index), error.message()));
  }
  std::string text;
  const Error* decisive = nullptr;
  for (const auto& [index, error] : failures) {
    text += fmt::format("{}{}: {}", text.empty() ? "" : "; ", where(index), error.describe());
    if (decisive == nullptr && !lost_the_gateway(error)) decisive = &error;
  }
  const Errc code = decisive != nullptr ? decisive->code() : failures.back().second.code();
  return Error(code, fmt::format("no gateway answered ({} tried): {}", failures.size(), text));
}

GatewayCall call_through_gateways(const ResolvedConnection& c, bool privileged,
                                  const std::string& request, bool retry_lost_answer,
                                  const FrameHandler& on_frame, std::string_view doing) {
  GatewayCall out;
  std::size_t start = c.gateway;
  for (std::size_t attempt = 0; attempt < c.gateways.size(); ++attempt) {
    auto client = open_node_connection(at_gateway(c, start), privileged);
    if (!client) {
      out.status = std::move(client).error();
      out.answer_lost = false;
      return out;
    }
    out.gateway = (*client)->gateway();
    out.status = (*client)->call(request, c.timeout, false, on_frame);
    (*client)->close();
    out.answer_lost = !out.status && lost_the_gateway(out.status.error());
    const bool last = attempt + 1 == c.gateways.size();
    if (out.status || !out.answer_lost || !retry_lost_answer || last) return out;
    start = out.gateway + 1;
    std::cerr << fmt::format("palyra: {}: {}: the answer was lost ({}); retrying on {}\n", doing,
                             c.gateways[out.gateway].address.to_string(),
                             out.status.error().describe(),
                             c.gateways[start % c.gateways.size()].address.to_string());
  }
  return out;
}

}  // namespace palyra::cli
