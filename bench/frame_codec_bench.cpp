// Micro-benchmarks of the untrusted-bytes decoders and the hot encoders.
#include <benchmark/benchmark.h>

#include "palyra/runtime/protocol.hpp"
#include "palyra/transport/frame_codec.hpp"

namespace {

using palyra::transport::FrameDecoder;

std::string frames_of(std::size_t payload_size, std::size_t count) {
  std::string wire;
  std::string payload(payload_size, 'x');
  for (std::size_t i = 0; i < count; ++i) (void)palyra::transport::append_frame(wire, payload);
  return wire;
}

void decode(benchmark::State& state, std::size_t payload_size, std::size_t count) {
  std::string wire = frames_of(payload_size, count);
  std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(wire.data()),
                                      wire.size());
  for (auto _ : state) {
    FrameDecoder decoder;
    std::deque<std::string> frames;
    // Feed in 1452-byte pieces, as QUIC packets deliver it.
    for (std::size_t offset = 0; offset < bytes.size(); offset += 1452) {
      (void)decoder.feed(bytes.subspan(offset, std::min<std::size_t>(1452, bytes.size() - offset)),
                         frames);
    }
    benchmark::DoNotOptimize(frames);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * count));
}

void BM_DecodeSmallFrames(benchmark::State& state) {
  decode(state, 100, 1000);
}
void BM_DecodeMaximalFrames(benchmark::State& state) {
  decode(state, 524288, 4);
}

void BM_EncodeEvent(benchmark::State& state) {
  std::string payload = R"({"door":"north","open":true,"count":12})";
  std::uint64_t seq = 0;
  for (auto _ : state) {
    auto frame =
        palyra::runtime::encode_event({++seq, "door.open", payload, "node-1", 1700000000000});
    benchmark::DoNotOptimize(frame);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_ParseRequest(benchmark::State& state) {
  std::string request =
      R"({"protocol_version":1,"method":"node.stream_events","resume_from":1234,"params":{"follow":true}})";
  for (auto _ : state) {
    auto parsed = palyra::runtime::parse_request(request);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace

BENCHMARK(BM_DecodeSmallFrames);
BENCHMARK(BM_DecodeMaximalFrames);
BENCHMARK(BM_EncodeEvent);
BENCHMARK(BM_ParseRequest);
BENCHMARK_MAIN();
