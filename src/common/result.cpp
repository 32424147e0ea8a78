#include "palyra/common/result.hpp"

namespace palyra {

std::string_view errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::InvalidArgument:
      return "InvalidArgument";
    case Errc::IoFailed:
      return "IoFailed";
    case Errc::NotFound:
      return "NotFound";
    case Errc::AlreadyExists:
      return "AlreadyExists";
    case Errc::ConfigInvalid:
      return "ConfigInvalid";
    case Errc::Internal:
      return "Internal";
    case Errc::CertificateParsingFailed:
      return "CertificateParsingFailed";
    case Errc::PrivateKeyParsingFailed:
      return "PrivateKeyParsingFailed";
    case Errc::KeyCertificateMismatch:
      return "KeyCertificateMismatch";
    case Errc::InvalidDeviceId:
      return "InvalidDeviceId";
    case Errc::DeviceRevoked:
      return "DeviceRevoked";
    case Errc::InvalidDuration:
      return "InvalidDuration";
    case Errc::UnknownFingerprint:
      return "UnknownFingerprint";
    case Errc::CryptoFailed:
      return "CryptoFailed";
    case Errc::UnsupportedKeyType:
      return "UnsupportedKeyType";
    case Errc::InvalidServerName:
      return "InvalidServerName";
    case Errc::ClientIdentityIncomplete:
      return "ClientIdentityIncomplete";
    case Errc::MissingClientIdentity:
      return "MissingClientIdentity";
    case Errc::InvalidIdleTimeout:
      return "InvalidIdleTimeout";
    case Errc::TlsConfigurationFailed:
      return "TlsConfigurationFailed";
    case Errc::EndpointBindFailed:
      return "EndpointBindFailed";
    case Errc::ConnectStartFailed:
      return "ConnectStartFailed";
    case Errc::HandshakeTimeout:
      return "HandshakeTimeout";
    case Errc::ConnectFailed:
      return "ConnectFailed";
    case Errc::PinnedCertificateMismatch:
      return "PinnedCertificateMismatch";
    case Errc::MissingPeerIdentity:
      return "MissingPeerIdentity";
    case Errc::EmptyPeerCertificateChain:
      return "EmptyPeerCertificateChain";
    case Errc::FrameTooLarge:
      return "FrameTooLarge";
    case Errc::FrameReadFailed:
      return "FrameReadFailed";
    case Errc::FrameWriteFailed:
      return "FrameWriteFailed";
    case Errc::ConnectionClosed:
      return "ConnectionClosed";
    case Errc::StreamReset:
      return "StreamReset";
    case Errc::StreamLimitReached:
      return "StreamLimitReached";
    case Errc::Timeout:
      return "Timeout";
    case Errc::StorageFailed:
      return "StorageFailed";
  }
  return "Unknown";
}

std::string Error::describe() const {
  std::string out(errc_name(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace palyra
