// The JetStream publish rate of the servers alone: what a client with the
// same number of publishes in flight gets from them, with no gateway in
// between. bench/journal-backends runs it against the same servers as the
// gateway, in the same run, so a gateway's figure reads as a ratio of what
// the servers can take on this machine.
//
// It publishes to a stream of its own (PALYRA_BASELINE, subject
// palyra.baseline, file storage, the replicas asked for), deleted at the
// end, with message bodies the size of a journal event's. Prints one JSON
// line: {"bench":"jetstream-publish","published":...,"publishes_per_s":...}.
#include <fmt/format.h>
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

constexpr const char* kStream = "PALYRA_BASELINE";
constexpr const char* kSubject = "palyra.baseline";

std::atomic<long> failed{0};

void on_error(jsCtx*, jsPubAckErr*, void*) {
  ++failed;
}

int fail(const char* what, natsStatus status) {
  std::fprintf(stderr, "jetstream_publish_baseline: %s: %s\n", what, natsStatus_GetText(status));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr,
                 "usage: jetstream_publish_baseline URLS REPLICAS COUNT IN_FLIGHT BODY_BYTES\n"
                 "  URLS: nats://host:port,... of one cluster\n");
    return 2;
  }
  const char* urls = argv[1];
  const int replicas = std::atoi(argv[2]);
  const long count = std::atol(argv[3]);
  const int in_flight = std::atoi(argv[4]);
  const int body_bytes = std::atoi(argv[5]);
  if (replicas < 1 || count < 1 || in_flight < 1 || body_bytes < 1) {
    std::fprintf(stderr, "jetstream_publish_baseline: every number must be at least 1\n");
    return 2;
  }
  natsConnection* connection = nullptr;
  if (const natsStatus s = natsConnection_ConnectTo(&connection, urls); s != NATS_OK)
    return fail("connecting", s);
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = 10'000;
  options.PublishAsync.MaxPending = in_flight;
  options.PublishAsync.StallWait = 10'000;  // a full window waits, never fails
  options.PublishAsync.ErrHandler = on_error;
  jsCtx* js = nullptr;
  if (const natsStatus s = natsConnection_JetStream(&js, connection, &options); s != NATS_OK)
    return fail("JetStream context", s);

  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = kStream;
  const char* subjects[] = {kSubject};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = replicas;
  jsStreamInfo* info = nullptr;
  jsErrCode code{};
  if (const natsStatus s = js_AddStream(&info, js, &config, nullptr, &code); s != NATS_OK)
    return fail("creating the stream", s);
  jsStreamInfo_Destroy(info);

  const std::string body(static_cast<std::size_t>(body_bytes), 'x');
  const auto started = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    if (const natsStatus s =
            js_PublishAsync(js, kSubject, body.data(), static_cast<int>(body.size()), nullptr);
        s != NATS_OK) {
      return fail("publishing", s);
    }
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = 60'000;
  if (const natsStatus s = js_PublishAsyncComplete(js, &wait); s != NATS_OK)
    return fail("waiting for the acknowledgements", s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  (void)js_DeleteStream(js, kStream, nullptr, nullptr);
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  const long published = count - failed.load();
  std::printf("%s\n", fmt::format(R"({{"bench":"jetstream-publish","replicas":{},"count":{},)"
                                  R"("in_flight":{},"body_bytes":{},"published":{},"failed":{},)"
                                  R"("seconds":{:.3f},"publishes_per_s":{:.1f}}})",
                                  replicas, count, in_flight, body_bytes, published, failed.load(),
                                  seconds, static_cast<double>(published) / seconds)
                          .c_str());
  return failed.load() == 0 ? 0 : 1;
}
