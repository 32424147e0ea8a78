#include "stream.hpp"

#include <chrono>

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

}  // namespace

std::string subject_for(const std::string& stream) {
  return "palyra.journal." + stream;
}

Result<StreamState> ensure_stream(jsCtx* js, const JetStreamBackend& backend,
                                  const JournalOptions& options) {
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
    if (status != NATS_OK) return nats_error("adding stream " + backend.stream, status, code);
    return state_of(*added);
  }
  if (status != NATS_OK) return nats_error("stream info of " + backend.stream, status, code);
  status = js_UpdateStream(&raw, js, &config, nullptr, &code);
  NatsPtr<jsStreamInfo> updated(raw);
  if (status != NATS_OK) return nats_error("updating stream " + backend.stream, status, code);
  return state_of(*updated);
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
