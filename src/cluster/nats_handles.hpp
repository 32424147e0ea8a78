// Owning handles for the NATS C client's objects, and its failures as our
// errors: the status text and the library's last error message, with what
// we were doing. Shared by the JetStream journal and the key-value buckets.
#pragma once

#include <nats/nats.h>

#include <memory>
#include <string>

#include "palyra/common/result.hpp"

namespace palyra::cluster {

struct NatsDeleter {
  void operator()(natsConnection* c) const noexcept { natsConnection_Destroy(c); }
  void operator()(natsOptions* o) const noexcept { natsOptions_Destroy(o); }
  void operator()(jsCtx* js) const noexcept { jsCtx_Destroy(js); }
  void operator()(natsSubscription* s) const noexcept { natsSubscription_Destroy(s); }
  void operator()(natsMsg* m) const noexcept { natsMsg_Destroy(m); }
  void operator()(jsStreamInfo* si) const noexcept { jsStreamInfo_Destroy(si); }
  void operator()(jsMsgMetaData* md) const noexcept { jsMsgMetaData_Destroy(md); }
  void operator()(jsConsumerInfo* ci) const noexcept { jsConsumerInfo_Destroy(ci); }
  void operator()(kvStore* kv) const noexcept { kvStore_Destroy(kv); }
  void operator()(kvEntry* e) const noexcept { kvEntry_Destroy(e); }
  void operator()(kvWatcher* w) const noexcept { kvWatcher_Destroy(w); }
};
template <typename T>
using NatsPtr = std::unique_ptr<T, NatsDeleter>;

// StorageFailed: "<what>: <status text> (<last error>) [JetStream error N]".
inline Error nats_error(const std::string& what, natsStatus status,
                        jsErrCode js_code = static_cast<jsErrCode>(0)) {
  std::string message = what + ": " + natsStatus_GetText(status);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0') message += std::string(" (") + detail + ")";
  if (static_cast<int>(js_code) != 0)
    message += " [JetStream error " + std::to_string(static_cast<int>(js_code)) + "]";
  return Error(Errc::StorageFailed, std::move(message));
}

}  // namespace palyra::cluster
