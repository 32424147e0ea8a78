// palyra bench <handshake|rpc|publish|stream|connections|reconnect|bulk>
#include <memory>

#include "../commands.hpp"
#include "bench.hpp"

namespace palyra::cli {
namespace {

CLI::App* add_bench(CLI::App& bench, const char* name, const char* description,
                    bench::CommonOptions& common) {
  CLI::App* command = bench.add_subcommand(name, description);
  add_connection_options(*command, common.connection);
  command->add_option("--time-limit", common.time_limit_s, "give up after this many seconds")
      ->capture_default_str();
  return command;
}

}  // namespace

void add_bench_commands(CLI::App& root, CommandContext& context) {
  CLI::App* bench = root.add_subcommand(
      "bench",
      "Load a daemon (or any server of the protocol) and print figures: progress on stderr, one "
      "line of JSON on stdout. See docs/BENCHMARKS.md");
  bench->require_subcommand(1);

  auto handshake = std::make_shared<bench::HandshakeOptions>();
  CLI::App* h = add_bench(*bench, "handshake",
                          "N new mTLS connections, C at a time, each doing one node.health: "
                          "connections_per_s, p50_ms, p99_ms",
                          handshake->common);
  h->add_option("--count", handshake->count, "connections in all")->capture_default_str();
  h->add_option("--concurrency", handshake->concurrency, "handshakes in flight")
      ->capture_default_str();
  h->callback([handshake, &context] { context.exit_code = bench::run_handshake(*handshake); });

  auto rpc = std::make_shared<bench::RpcOptions>();
  CLI::App* r = add_bench(*bench, "rpc",
                          "one connection, N node.health calls on fresh streams, C in flight: "
                          "rpcs_per_s, p50_us, p99_us",
                          rpc->common);
  r->add_option("--count", rpc->count, "calls in all")->capture_default_str();
  r->add_option("--concurrency", rpc->concurrency, "calls in flight")->capture_default_str();
  r->callback([rpc, &context] { context.exit_code = bench::run_rpc(*rpc); });

  auto publish = std::make_shared<bench::PublishOptions>();
  CLI::App* p =
      add_bench(*bench, "publish",
                "N durable node.publish_event calls, C in flight (one connection per 32): "
                "publishes_per_s, p50_ms, p99_ms. Adds N events to the daemon's journal",
                publish->common);
  p->add_option("--count", publish->count, "events in all")->capture_default_str();
  p->add_option("--concurrency", publish->concurrency, "publishes in flight")
      ->capture_default_str();
  p->add_option("--event-bytes", publish->event_bytes, "size of each event's JSON payload")
      ->capture_default_str();
  p->callback([publish, &context] { context.exit_code = bench::run_publish(*publish); });

  auto stream = std::make_shared<bench::StreamOptions>();
  CLI::App* s = add_bench(*bench, "stream",
                          "stream the journal from --resume-from to its end, checking the order: "
                          "events, events_per_s, mib_per_s",
                          stream->common);
  s->add_option("--resume-from", stream->resume_from, "start after this seq")
      ->capture_default_str();
  s->add_option("--seed", stream->seed, "publish this many events first (palyrad only)")
      ->capture_default_str();
  s->add_option("--event-bytes", stream->event_bytes, "payload size of the seeded events")
      ->capture_default_str();
  s->add_option("--transport", stream->transport,
                "quic, or grpc for the TCP fallback (--grpc-connect)")
      ->check(CLI::IsMember({"quic", "grpc"}))
      ->capture_default_str();
  s->callback([stream, &context] { context.exit_code = bench::run_stream(*stream); });

  auto connections = std::make_shared<bench::ConnectionsOptions>();
  CLI::App* c = add_bench(*bench, "connections",
                          "open N connections, hold them idle (keep-alives flowing), then check "
                          "each with node.health: established, stayed_up, and with --server-pid "
                          "the server's RSS per connection",
                          connections->common);
  c->add_option("--count", connections->count, "connections to hold")->capture_default_str();
  c->add_option("--hold", connections->hold_s, "seconds to hold them")->capture_default_str();
  c->add_option("--concurrency", connections->concurrency, "handshakes in flight while opening")
      ->capture_default_str();
  c->add_option("--server-pid", connections->server_pid, "the server's process id (same machine)");
  c->callback(
      [connections, &context] { context.exit_code = bench::run_connections(*connections); });

  auto reconnect = std::make_shared<bench::ReconnectOptions>();
  CLI::App* re = add_bench(
      *bench, "reconnect",
      "hold N connections until the server drops them (restart it meanwhile, e.g. kill -9 and "
      "start it again on the same port), reconnect each at once: recovered_s, from the first "
      "loss until all N answer node.health again",
      reconnect->common);
  re->add_option("--count", reconnect->count, "connections to hold")->capture_default_str();
  re->add_option("--concurrency", reconnect->concurrency,
                 "handshakes in flight while opening and reconnecting")
      ->capture_default_str();
  re->callback([reconnect, &context] { context.exit_code = bench::run_reconnect(*reconnect); });

  auto bulk = std::make_shared<bench::BulkOptions>();
  CLI::App* b = bench->add_subcommand(
      "bulk",
      "the transport library alone: two endpoints in this process, 512 KiB frames on one stream, "
      "1452-byte packets: mb_per_s");
  b->add_option("--bytes", bulk->bytes, "bytes to send")->capture_default_str();
  b->add_flag("!--no-gso", bulk->gso,
              "no segmentation offload: send with sendmmsg instead of UDP GSO bursts, receive "
              "without UDP_GRO");
  b->add_option("--time-limit", bulk->time_limit_s, "give up after this many seconds")
      ->capture_default_str();
  b->callback([bulk, &context] { context.exit_code = bench::run_bulk(*bulk); });
}

}  // namespace palyra::cli
