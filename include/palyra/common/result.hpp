// Errors as values: every fallible call in Palyra returns Result<T>.
//
// An Error is a code (what kind of failure, stable, machine-readable) plus a
// message (the context a person needs: which file, which address, which
// numbers). Codes name the failure; messages never repeat the code's name.
// Nothing on the data path throws.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace palyra {

enum class Errc {
  // General.
  InvalidArgument,  // a caller passed a value outside the documented domain
  IoFailed,         // a file or socket operation failed; message has path/errno
  NotFound,         // a named thing (file, device, fingerprint) does not exist
  AlreadyExists,    // refusing to overwrite without an explicit force
  ConfigInvalid,    // a configuration value is malformed; message names key and source
  Internal,         // an invariant of ours broke; a bug, reported instead of aborting

  // Identity (certificates, keys, revocation).
  CertificateParsingFailed,
  PrivateKeyParsingFailed,
  KeyCertificateMismatch,
  InvalidDeviceId,
  DeviceRevoked,  // the device id itself was revoked (revoke_device)
  InvalidDuration,
  UnknownFingerprint,
  CryptoFailed,        // GnuTLS refused an operation (signing, key generation)
  UnsupportedKeyType,  // a well-formed key or request of a type we do not issue

  // Transport (PROTOCOL.md §6, same names).
  InvalidServerName,
  ClientIdentityIncomplete,
  MissingClientIdentity,
  InvalidIdleTimeout,
  TlsConfigurationFailed,
  EndpointBindFailed,
  ConnectStartFailed,
  HandshakeTimeout,
  ConnectFailed,
  PinnedCertificateMismatch,
  MissingPeerIdentity,
  EmptyPeerCertificateChain,
  FrameTooLarge,
  FrameReadFailed,
  FrameWriteFailed,
  // Transport, beyond §6: what a live connection or stream can report.
  ConnectionClosed,    // the connection ended; message has the QUIC error code and reason
  StreamReset,         // the peer reset the stream or asked us to stop sending
  StreamLimitReached,  // the peer allows no more concurrent streams right now
  Timeout,             // an operation with a deadline did not complete in time

  // Journal.
  StorageFailed,  // SQLite reported an error; message has the statement and code
};

// The stable name of a code, e.g. "PinnedCertificateMismatch".
std::string_view errc_name(Errc code) noexcept;

class Error {
 public:
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  Errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // "PinnedCertificateMismatch: expected ab12…, got cd34…"
  std::string describe() const;

 private:
  Errc code_;
  std::string message_;
};

// Result<T>: either a T or an Error. A minimal stand-in for std::expected
// (C++23). Accessing the wrong alternative is a programming error (asserted).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error)
      : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_{Errc::Internal, {}};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace palyra

// Propagate an error from an expression returning Result<...>.
#define PALYRA_TRY(expr)                                                   \
  do {                                                                     \
    auto palyra_try_result_ = (expr);                                      \
    if (!palyra_try_result_) return std::move(palyra_try_result_).error(); \
  } while (0)
