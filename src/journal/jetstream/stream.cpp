#include "stream.hpp"

#include <chrono>
#include <thread>

#include "nats_handles.hpp"

namespace palyra::journal::jetstream {

namespace {

// JetStream's durations are nanoseconds.
std::int64_t nanoseconds(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

StreamState state_of(const jsStreamInfo& info) {
  StreamState state{info.State.FirstSeq, info.State.LastSeq, info.State.Msgs};
  // An empty stream reports first = last + 1 once it has held messages, and
  // 0 before: keep "the next one to be stored" in both cases.
  if (state.messages == 0) state.first_seq = state.last_seq + 1;
  return state;
}

// A cluster still electing its leaders answers stream requests with "no
// suitable peers" (10005), "temporarily unavailable" (10008) or not at all.
bool cluster_not_ready(natsStatus status, jsErrCode code) {
  return status == NATS_TIMEOUT || status == NATS_NO_RESPONDERS ||
         static_cast<int>(code) == 10005 || static_cast<int>(code) == 10008;
}

Result<StreamState> ensure_stream_once(jsCtx* js, const JetStreamBackend& backend,
                                       const JournalOptions& options, bool& retry) {
  const std::string subject = subject_for(backend.stream);
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = backend.stream.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = backend.replicas;
  config.MaxMsgs = options.retention.max_events == 0
                       ? -1
                       : static_cast<std::int64_t>(options.retention.max_events);
  config.MaxAge = nanoseconds(options.retention.max_age);  // 0: no limit
  config.Duplicates = nanoseconds(options.dedup_window);
  config.AllowDirect = true;

  jsStreamInfo* raw = nullptr;
  jsErrCode code{};
  natsStatus status = js_GetStreamInfo(&raw, js, backend.stream.c_str(), nullptr, &code);
  NatsPtr<jsStreamInfo> existing(raw);
  raw = nullptr;
  if (status == NATS_NOT_FOUND) {
    status = js_AddStream(&raw, js, &config, nullptr, &code);
    NatsPtr<jsStreamInfo> added(raw);
    retry = cluster_not_ready(status, code);
    if (status != NATS_OK) return nats_error("adding stream " + backend.stream, status, code);
    return state_of(*added);
  }
  retry = cluster_not_ready(status, code);
  if (status != NATS_OK) return nats_error("stream info of " + backend.stream, status, code);
  status = js_UpdateStream(&raw, js, &config, nullptr, &code);
  NatsPtr<jsStreamInfo> updated(raw);
  retry = cluster_not_ready(status, code);
  if (status != NATS_OK) return nats_error("updating stream " + backend.stream, status, code);
  return state_of(*updated);
}

}  // namespace

std::string subject_for(const std::string& stream) {
  return "palyra.journal." + stream;
}

Result<StreamState> ensure_stream(jsCtx* js, const JetStreamBackend& backend,
                                  const JournalOptions& options) {
  const auto deadline = std::chrono::steady_clock::now() + backend.startup_wait;
  for (;;) {
    bool retry = false;
    auto state = ensure_stream_once(js, backend, options, retry);
    if (state || !retry || std::chrono::steady_clock::now() >= deadline) return state;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

Result<StreamState> stream_state(jsCtx* js, const std::string& stream) {
  jsStreamInfo* raw = nullptr;
  jsErrCode code{};
  const natsStatus status = js_GetStreamInfo(&raw, js, stream.c_str(), nullptr, &code);
  NatsPtr<jsStreamInfo> info(raw);
  if (status != NATS_OK) return nats_error("stream info of " + stream, status, code);
  return state_of(*info);
}

}  // namespace palyra::journal::jetstream
