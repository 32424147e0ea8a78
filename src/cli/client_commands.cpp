// palyra health | events | publish: node.* calls to a running daemon.
#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <ctime>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "commands.hpp"
#include "connection_options.hpp"
#include "device_renewal.hpp"
#include "gateway_failover.hpp"
#include "node_connection.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::cli {
namespace {

using Clock = std::chrono::steady_clock;

int report(const Error& error, std::string_view doing) {
  std::cerr << "palyra: " << doing << ": " << error.describe() << "\n";
  return error.code() == Errc::InvalidArgument ? kExitUsage : kExitFailure;
}

// A server-side error frame as one line.
Error protocol_error(const runtime::Response& response) {
  const std::string name = response.error.value_or("unknown");
  if (name == "resume_gap" && response.seq) {
    return Error(Errc::NotFound,
                 fmt::format("resume_gap: the daemon no longer holds the events after the resume "
                             "point (retention removed them); the oldest it has is seq {}. "
                             "Resume with --resume-from {} to accept the gap",
                             *response.seq, *response.seq - 1));
  }
  return Error(Errc::InvalidArgument, fmt::format("the daemon answered error '{}'", name));
}

std::string format_unix_ms(std::int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", text, ms % 1000);
}

// "seq=3 name=door.open device_id=node-1 at=2026-11-25T02:14:57.645Z payload={...}"
std::string format_event(const runtime::Response& response) {
  auto event = nlohmann::json::parse(response.event_json.value_or("{}"), nullptr, false);
  if (!event.is_object()) return fmt::format("seq={} (unreadable event)", response.seq.value_or(0));
  auto text = [&](const char* key) {
    return event.contains(key) && event[key].is_string() ? event[key].get<std::string>() : "-";
  };
  // value() would throw on a wrong type; an event is shown whatever it holds.
  auto published = event.find("published_at_unix_ms");
  std::int64_t at = published != event.end() && published->is_number_integer()
                        ? published->get<std::int64_t>()
                        : 0;
  return fmt::format("seq={} name={} device_id={} at={} payload={}", response.seq.value_or(0),
                     text("name"), text("device_id"), format_unix_ms(at),
                     event.contains("payload") ? event["payload"].dump() : "null");
}

// --- the cursor file: the last processed seq, so a restarted follower resumes ---
Result<std::optional<std::uint64_t>> read_cursor(const std::string& path) {
  if (path.empty()) return std::optional<std::uint64_t>{};
  auto text = read_file(path);
  if (!text && text.error().code() == Errc::NotFound) return std::optional<std::uint64_t>{};
  if (!text) return Error(Errc::IoFailed, fmt::format("cursor file: {}", text.error().message()));
  std::string_view digits(*text);
  while (!digits.empty() && (digits.back() == '\n' || digits.back() == ' '))
    digits.remove_suffix(1);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return Error(Errc::IoFailed,
                 fmt::format("cursor file '{}' does not hold a sequence number", path));
  }
  return std::optional<std::uint64_t>(value);
}

// Renews the device certificate in the background while `events --follow`
// runs, and asks the follower to reconnect after each renewal.
class RenewalThread {
 public:
  explicit RenewalThread(const ResolvedConnection& connection)
      : thread_([this, connection] {
          DeviceRenewer renewer(connection);
          Status ran = renewer.run(stop_, [](const identity::Certificate& renewed) {
            std::cerr << fmt::format(
                "palyra: events: device certificate renewed (sha256 {}, "
                "expires {})\n",
                renewed.fingerprint(), identity::format_utc(renewed.not_after()));
            reconnect_requested().store(true);
          });
          if (!ran) {
            std::lock_guard lock(mutex_);
            failure_ = std::move(ran).error();
          }
        }) {}
  ~RenewalThread() {
    stop_.store(true);
    thread_.join();
  }
  // Why renewing stopped for good (the certificate expired), if it did.
  std::optional<Error> failed() const {
    std::lock_guard lock(mutex_);
    return failure_;
  }

 private:
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::optional<Error> failure_;
  std::thread thread_;  // last: starts once the rest is initialized
};

struct EventsOptions {
  ConnectionOptions connection;
  std::optional<std::uint64_t> resume_from;
  bool follow = false;
  std::string cursor;
  bool json = false;
};

class EventsCommand {
 public:
  explicit EventsCommand(const EventsOptions& options) : options_(options) {}

  int run() {
    auto connection = resolve(options_.connection);
    if (!connection) return report(connection.error(), "events");
    // A follower is idle by design: its PING each second is what a restarted
    // daemon answers with a Stateless Reset (PROTOCOL.md §8), so it
    // reconnects within about a second instead of at the next 5 s PING.
    if (options_.follow) connection->limits.keep_alive_interval = std::chrono::seconds(1);
    // With another gateway to move to, five silent seconds (five missed
    // PINGs) are enough to call this one gone: a killed gateway sends no
    // reset, and waiting out the 30 s idle timeout would only delay failover.
    if (options_.follow && connection->gateways.size() > 1) {
      connection->limits.idle_timeout = std::chrono::seconds(5);
    }
    auto cursor = read_cursor(options_.cursor);
    if (!cursor) return report(cursor.error(), "events");
    // An explicit --resume-from wins over the cursor file.
    last_seq_ = options_.resume_from ? *options_.resume_from : cursor->value_or(0);
    resume_given_ = options_.resume_from.has_value() || cursor->has_value();
    saved_seq_ = last_seq_;
    install_stop_handlers();

    // A follower whose identity is a device in a state directory renews it
    // by itself, and comes back with the new certificate.
    std::optional<RenewalThread> renewal;
    if (options_.follow && connection->state_dir) renewal.emplace(*connection);

    auto backoff = std::chrono::milliseconds(100);
    while (!stop_requested().load()) {
      Status round = stream_once(*connection);
      if (!save_cursor(true)) return kExitFailure;
      if (round && reconnect_requested().exchange(false) && !stop_requested().load()) {
        // Renewed: the next connection presents the new certificate and
        // resumes after the last event printed, so nothing is missed or repeated.
        std::cerr << fmt::format(
            "palyra: events: certificate renewed; reconnecting with it "
            "(resuming after seq {})\n",
            last_seq_);
        continue;
      }
      if (renewal && renewal->failed()) return report(*renewal->failed(), "events: renewal");
      if (round && (!options_.follow || stop_requested().load())) return kExitOk;
      if (!round && (!options_.follow || !lost_the_gateway(round.error()))) {
        return report(round.error(), "events");
      }
      // Follow mode and the daemon went away (or ended the stream): come back
      // with resume_from = the last seq we printed, so nothing repeats. A
      // gateway lost after it served us is left for the next one in the list.
      const bool switching = !round && connected_once_ && connection->gateways.size() > 1;
      if (std::exchange(connected_once_, false)) backoff = std::chrono::milliseconds(100);
      if (switching) {
        *connection = at_gateway(*connection, connection->gateway + 1);
        std::cerr << fmt::format("palyra: events: {}; switching to {} (resuming after seq {})\n",
                                 round.error().describe(), connection->address.to_string(),
                                 last_seq_);
      } else {
        std::cerr << fmt::format(
            "palyra: events: {}; reconnecting in {} ms (resuming after seq {})\n",
            round ? "the daemon ended the stream" : round.error().describe(), backoff.count(),
            last_seq_);
      }
      for (auto waited = std::chrono::milliseconds(0); waited < backoff && !stop_requested().load();
           waited += std::chrono::milliseconds(50)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
    return save_cursor(true) ? kExitOk : kExitFailure;
  }

 private:
  // Leaves `c` aimed at the gateway it reached (open_node_connection may
  // pass over one that does not answer).
  Status stream_once(ResolvedConnection& c) {
    auto client = open_node_connection(c, /*privileged=*/false);
    if (!client) return std::move(client).error();
    connected_once_ = true;
    if ((*client)->gateway() != c.gateway) c = at_gateway(c, (*client)->gateway());
    std::optional<std::uint64_t> resume;
    if (resume_given_ || last_seq_ > 0) resume = last_seq_;
    auto request = runtime::encode_stream_events_request(resume, options_.follow);
    Status status = (*client)->call(
        request, c.timeout, options_.follow,
        [this](const runtime::Response& r, const std::string& raw) -> Result<Next> {
          if (r.kind == "error" || !r.ok) return protocol_error(r);
          if (r.kind != "event" || !r.seq) return Next::Continue;
          // Idempotent by seq: never print an event twice.
          if (*r.seq <= last_seq_) return Next::Continue;
          std::cout << (options_.json ? raw : format_event(r)) << '\n' << std::flush;
          last_seq_ = *r.seq;
          if (!save_cursor(false)) return Error(Errc::IoFailed, "cursor");
          return Next::Continue;
        });
    (*client)->close();
    return status;
  }

  // Writes the cursor at most every 200 ms while streaming (each write is an
  // fsync), and always when `final`. A crash between writes means some events
  // are printed again after restart: at-least-once, as PROTOCOL.md says.
  bool save_cursor(bool final) {
    if (options_.cursor.empty() || last_seq_ == saved_seq_) return true;
    auto now = Clock::now();
    if (!final && now - last_save_ < std::chrono::milliseconds(200)) return true;
    auto written = write_file_atomically(options_.cursor, std::to_string(last_seq_) + "\n", 0644);
    if (!written) {
      report(written.error(), "events: saving the cursor");
      return false;
    }
    saved_seq_ = last_seq_;
    last_save_ = now;
    return true;
  }

  const EventsOptions& options_;
  std::uint64_t last_seq_ = 0;
  std::uint64_t saved_seq_ = 0;
  bool resume_given_ = false;
  bool connected_once_ = false;
  Clock::time_point last_save_{};
};

int run_health(const ConnectionOptions& options, bool json) {
  auto connection = resolve(options);
  if (!connection) return report(connection.error(), "health");
  std::optional<runtime::Response> health;
  std::string raw;
  // A health call changes nothing: a gateway lost before answering is
  // passed over like one that cannot be reached.
  auto call = call_through_gateways(
      *connection, /*privileged=*/false, runtime::encode_health_request(),
      /*retry_lost_answer=*/true,
      [&](const runtime::Response& r, const std::string& frame) -> Result<Next> {
        if (r.kind != "health" || !r.ok) return protocol_error(r);
        health = r;
        raw = frame;
        return Next::Stop;
      },
      "health");
  if (!call.status) return report(call.status.error(), "health");
  if (!health) {
    std::cerr << "palyra: health: the daemon sent no health frame\n";
    return kExitFailure;
  }
  if (json) {
    std::cout << raw << '\n';
  } else {
    std::cout << fmt::format("healthy: {} ({})\n",
                             connection->gateways[call.gateway].address.to_string(),
                             health->node_rpc_mtls_required.value_or(true)
                                 ? "mutual TLS required"
                                 : "INSECURE: the daemon does not require client certificates");
  }
  return kExitOk;
}

int run_publish(const ConnectionOptions& options, const std::string& name,
                const std::string& payload, const std::optional<std::string>& id, bool json) {
  if (name.empty() || name.size() > runtime::kMaxEventNameBytes) {
    std::cerr << fmt::format("palyra: publish: the event name must be 1 to {} bytes (got {})\n",
                             runtime::kMaxEventNameBytes, name.size());
    return kExitUsage;
  }
  if (id && (id->empty() || id->size() > runtime::kMaxPublishIdBytes)) {
    std::cerr << fmt::format("palyra: publish: --id must be 1 to {} bytes (got {})\n",
                             runtime::kMaxPublishIdBytes, id->size());
    return kExitUsage;
  }
  auto parsed = nlohmann::json::parse(payload, nullptr, false);
  if (parsed.is_discarded()) {
    std::cerr << "palyra: publish: PAYLOAD_JSON is not valid JSON: " << payload << "\n";
    return kExitUsage;
  }
  auto connection = resolve(options);
  if (!connection) return report(connection.error(), "publish");
  // A state-changing call: never downgraded to the fallback (PROTOCOL.md §5).
  // A lost answer is retried on the next gateway only with an id: the
  // gateways then answer a repeat with the first one's seq.
  std::optional<std::uint64_t> seq;
  auto call = call_through_gateways(
      *connection, /*privileged=*/true, runtime::encode_publish_request(name, parsed.dump(), id),
      /*retry_lost_answer=*/id.has_value(),
      [&](const runtime::Response& r, const std::string& raw) -> Result<Next> {
        if (r.kind != "published" || !r.ok || !r.seq) return protocol_error(r);
        seq = r.seq;
        std::cout << (json ? raw : fmt::format("published seq={}", *r.seq)) << '\n';
        return Next::Stop;
      },
      "publish");
  if (!call.status && call.answer_lost && !id && connection->gateways.size() > 1) {
    std::cerr << fmt::format(
        "palyra: publish: {}: the connection failed before the answer ({}); the event may or may "
        "not be stored. Not retried on another gateway: without --id a retry could append it "
        "twice (pass --id to make a retry safe)\n",
        connection->gateways[call.gateway].address.to_string(), call.status.error().describe());
    return kExitFailure;
  }
  if (!call.status) return report(call.status.error(), "publish");
  if (!seq) {
    std::cerr << "palyra: publish: the daemon ended the call without confirming the event; it may "
                 "or may not be stored\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void add_client_commands(CLI::App& root, CommandContext& context) {
  // --- palyra health ---
  struct HealthOptions {
    ConnectionOptions connection;
    bool json = false;
  };
  auto health_options = std::make_shared<HealthOptions>();
  CLI::App* health =
      root.add_subcommand("health", "Ask the daemon whether it is healthy (node.health)");
  add_connection_options(*health, health_options->connection);
  health->add_flag("--json", health_options->json, "print the response frame as JSON");
  health->callback([health_options, &context] {
    context.exit_code = run_health(health_options->connection, health_options->json);
  });

  // --- palyra events ---
  auto events_options = std::make_shared<EventsOptions>();
  CLI::App* events = root.add_subcommand(
      "events",
      "Stream the daemon's event journal (node.stream_events), one line per event.\n"
      "With --follow it waits for new events and survives dropped connections and daemon "
      "restarts, resuming after the last event printed; with several --connect gateways it "
      "moves on to the next when one goes away.");
  add_connection_options(*events, events_options->connection);
  events->add_option("--resume-from", events_options->resume_from,
                     "the last seq already processed: start after it (overrides --cursor)");
  events->add_flag("--follow", events_options->follow,
                   "keep streaming new events; reconnect on loss");
  events->add_option("--cursor", events_options->cursor,
                     "file holding the last processed seq: read at start, updated as events "
                     "arrive and at exit");
  events->add_flag("--json", events_options->json, "print each event frame as JSON");
  events->callback(
      [events_options, &context] { context.exit_code = EventsCommand(*events_options).run(); });

  // --- palyra publish ---
  struct PublishOptions {
    ConnectionOptions connection;
    std::string name;
    std::string payload = "null";
    std::optional<std::string> id;
    bool json = false;
  };
  auto publish_options = std::make_shared<PublishOptions>();
  CLI::App* publish = root.add_subcommand(
      "publish",
      "Append an event to the daemon's journal (node.publish_event); prints its seq once the "
      "daemon has made it durable");
  add_connection_options(*publish, publish_options->connection);
  publish->add_option("NAME", publish_options->name, "event name (1 to 128 bytes)")->required();
  publish->add_option("PAYLOAD_JSON", publish_options->payload, "any JSON value (default null)");
  publish->add_option("--id", publish_options->id,
                      "make the publish idempotent: the same ID from this device within the "
                      "daemon's deduplication window (2 minutes by default) appends nothing and "
                      "prints the first one's seq (1 to 64 bytes). With several --connect "
                      "gateways, an answer lost with its gateway is retried on the next one only "
                      "with --id");
  publish->add_flag("--json", publish_options->json, "print the response frame as JSON");
  publish->callback([publish_options, &context] {
    context.exit_code =
        run_publish(publish_options->connection, publish_options->name, publish_options->payload,
                    publish_options->id, publish_options->json);
  });
}

}  // namespace palyra::cli
