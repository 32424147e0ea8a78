// palyra bench stream: one node.stream_events from --resume-from to the end
// of the journal (optionally seeded first), every seq checked to follow the
// previous one. Over QUIC, or over the gRPC fallback with --transport grpc.
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <optional>

#include "../grpc_channel.hpp"
#include "load_connection.hpp"
#include "palyra/runtime/protocol.hpp"
#include "publish_load.hpp"

namespace palyra::cli::bench {
namespace {

// What arrived, checked as it arrives: consecutive seqs after resume_from.
class EventTally {
 public:
  explicit EventTally(std::uint64_t resume_from) : last_seq_(resume_from) {}

  // `wire_bytes`: the bytes this event took on its transport's stream.
  Status count(std::string_view kind, bool ok, std::optional<std::uint64_t> seq,
               std::size_t wire_bytes) {
    if (kind != "event" || !ok || !seq) {
      return Error(Errc::FrameReadFailed,
                   fmt::format("expected an event after seq {}, got kind '{}'", last_seq_, kind));
    }
    if (*seq != last_seq_ + 1) {
      return Error(Errc::FrameReadFailed,
                   fmt::format("events out of order: seq {} after seq {}", *seq, last_seq_));
    }
    last_seq_ = *seq;
    ++events_;
    bytes_ += wire_bytes;
    return {};
  }
  std::uint64_t events() const noexcept { return events_; }
  std::uint64_t bytes() const noexcept { return bytes_; }

 private:
  std::uint64_t last_seq_;
  std::uint64_t events_ = 0;
  std::uint64_t bytes_ = 0;
};

Status stream_over_quic(Target& target, std::uint64_t resume_from, EventTally& tally) {
  std::optional<Error> failure;
  bool done = false;
  LoadConnection::Handlers handlers;
  handlers.on_closed = [&](const Error& error) {
    if (!done && !failure) failure = error;
  };
  auto connection = open_connection(target, std::move(handlers));
  if (!connection) return std::move(connection).error();
  Progress progress("stream", "events", 0);
  (*connection)
      ->call(
          runtime::encode_stream_events_request(resume_from, /*follow=*/false),
          [&](std::string&& frame) {
            if (failure) return;
            auto response = runtime::parse_response(frame);
            if (!response) {
              failure = response.error();
              return;
            }
            Status counted =
                tally.count(response->kind, response->ok, response->seq, 4 + frame.size());
            if (!counted) failure = counted.error();
            progress.update(tally.events());
          },
          [&](const Status& outcome) {
            if (!outcome && !failure) failure = outcome.error();
            done = true;
          });
  PALYRA_TRY(run_until(
      *target.loop, [&] { return done || failure.has_value(); }, target.time_limit, "the stream"));
  (*connection)->close();
  if (failure) return *failure;
  return {};
}

// gRPC's length-prefixed message header: a compressed flag and a 4-byte length.
constexpr std::size_t kGrpcMessageHeaderBytes = 5;

Status stream_over_grpc(Target& target, std::uint64_t resume_from, EventTally& tally) {
  auto stub = open_grpc_stub(target.connection);
  if (!stub) return std::move(stub).error();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + target.time_limit);
  node::v1::StreamEventsRequest request;
  request.set_protocol_version(runtime::kProtocolVersion);
  request.set_resume_from(resume_from);
  auto reader = (*stub)->StreamEvents(&context, request);
  Progress progress("stream", "events", 0);
  node::v1::NodeResponse response;
  Status failure;
  while (reader->Read(&response)) {
    const std::optional<std::uint64_t> seq =
        response.has_seq() ? std::optional<std::uint64_t>(response.seq()) : std::nullopt;
    failure = tally.count(response.kind(), response.ok(), seq,
                          response.ByteSizeLong() + kGrpcMessageHeaderBytes);
    if (!failure) {
      context.TryCancel();
      break;
    }
    progress.update(tally.events());
  }
  grpc::Status status = reader->Finish();
  if (!failure) return failure;
  if (!status.ok()) {
    return Error(Errc::ConnectionClosed,
                 fmt::format("gRPC StreamEvents to {} failed: {} (status {})",
                             target.connection.grpc_address, status.error_message(),
                             static_cast<int>(status.error_code())));
  }
  return {};
}

}  // namespace

int run_stream(const StreamOptions& options) {
  if (options.transport != "quic" && options.transport != "grpc") {
    return report_failure("stream", Error(Errc::InvalidArgument, "--transport is quic or grpc"));
  }
  auto target = prepare_target(options.common);
  if (!target) return report_failure("stream", target.error());
  std::uint64_t resume_from = options.resume_from;
  if (options.seed > 0) {
    auto seeded = publish_load(*target, options.seed, 64, options.event_bytes, "stream --seed");
    if (!seeded) return report_failure("stream: seeding", seeded.error());
    if (seeded->first_error) return report_failure("stream: seeding", *seeded->first_error);
  }
  EventTally tally(resume_from);
  Stopwatch clock;
  Status status = options.transport == "grpc" ? stream_over_grpc(*target, resume_from, tally)
                                              : stream_over_quic(*target, resume_from, tally);
  const double seconds = clock.seconds();
  print_figures(
      {{"bench", "stream"},
       {"server", options.transport == "grpc" ? target->connection.grpc_address
                                              : target->connection.address.to_string()},
       {"transport", options.transport},
       {"resume_from", resume_from},
       {"events", tally.events()},
       {"bytes", tally.bytes()},
       {"seconds", round3(seconds)},
       {"events_per_s", round3(static_cast<double>(tally.events()) / seconds)},
       {"mib_per_s", round3(static_cast<double>(tally.bytes()) / seconds / (1024.0 * 1024.0))}});
  if (!status) return report_failure("stream", status.error());
  if (tally.events() == 0) {
    return report_failure(
        "stream", Error(Errc::NotFound, fmt::format("no events after seq {}", resume_from)));
  }
  return 0;
}

}  // namespace palyra::cli::bench
