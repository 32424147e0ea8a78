// What the servers say of a stream, read with the C client directly (the
// journal exposes neither a stream's placement nor its consumers): for tests
// that check where a stream lives and what it keeps.
#pragma once

#include <nats/nats.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace palyra::testing {

// Calls `use` with a JetStream context on its own connection to `url`;
// false if the server did not answer.
inline bool with_jetstream(const std::string& url, const std::function<void(jsCtx*)>& use) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  const bool connected = natsConnection_ConnectTo(&nc, url.c_str()) == NATS_OK &&
                         natsConnection_JetStream(&js, nc, nullptr) == NATS_OK;
  if (connected) use(js);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return connected;
}

// Calls `read` with the info of `stream` from the first server of `urls`
// that answers (empty urls, of stopped servers, are skipped); false if none.
inline bool with_stream_info(const std::vector<std::string>& urls, const std::string& stream,
                             const std::function<void(const jsStreamInfo&)>& read) {
  for (const auto& url : urls) {
    if (url.empty()) continue;
    bool answered = false;
    with_jetstream(url, [&](jsCtx* js) {
      jsStreamInfo* info = nullptr;
      answered = js_GetStreamInfo(&info, js, stream.c_str(), nullptr, nullptr) == NATS_OK;
      if (answered) read(*info);
      jsStreamInfo_Destroy(info);
    });
    if (answered) return true;
  }
  return false;
}

// The index (0..2) of the NatsCluster node (server names n1..n3) leading
// `stream`, if the servers name one.
inline std::optional<std::size_t> stream_leader(const std::vector<std::string>& urls,
                                                const std::string& stream) {
  std::optional<std::size_t> leader;
  with_stream_info(urls, stream, [&](const jsStreamInfo& info) {
    if (info.Cluster == nullptr || info.Cluster->Leader == nullptr) return;
    const std::string name = info.Cluster->Leader;
    if (name.size() == 2 && name[0] == 'n') leader = static_cast<std::size_t>(name[1] - '1');
  });
  return leader;
}

// How many consumers the servers keep on `stream` (-1 if none answered).
inline int consumer_count(const std::string& url, const std::string& stream) {
  int count = -1;
  with_stream_info({url}, stream, [&](const jsStreamInfo& info) {
    count = static_cast<int>(info.State.Consumers);
  });
  return count;
}

// Deletes every consumer of `stream` on the server at `url`, as its server
// going would; returns how many were deleted (-1 if the server did not list
// them).
inline int delete_consumers(const std::string& url, const std::string& stream) {
  int deleted = -1;
  with_jetstream(url, [&](jsCtx* js) {
    jsConsumerNamesList* names = nullptr;
    if (js_ConsumerNames(&names, js, stream.c_str(), nullptr, nullptr) != NATS_OK) return;
    deleted = 0;
    for (int i = 0; i < names->Count; ++i) {
      if (js_DeleteConsumer(js, stream.c_str(), names->List[i], nullptr, nullptr) == NATS_OK)
        ++deleted;
    }
    jsConsumerNamesList_Destroy(names);
  });
  return deleted;
}

}  // namespace palyra::testing
