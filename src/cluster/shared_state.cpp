#include "palyra/cluster/shared_state.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "kv_bucket.hpp"
#include "kv_device_claims.hpp"
#include "kv_token_store.hpp"
#include "nats_connection.hpp"

namespace palyra::cluster {

namespace {

// How long the background thread waits for a change before it looks at
// its queue: the delay a queued call may see (past its own).
constexpr std::chrono::milliseconds kWatchPoll{100};
// How often a compare-and-set on a ledger entry is tried again.
constexpr int kMaxAttempts = 16;

}  // namespace

struct SharedState::Parts {
  NatsServers servers;
  NatsPtr<natsConnection> connection;
  std::optional<KvBucket> revoked;
  std::optional<KvBucket> ledger;
  std::optional<KvTokenStore> tokens;
  std::optional<KvDeviceClaims> claims;

  std::mutex mutex;  // guards what follows
  std::condition_variable wake;
  struct Job {
    std::chrono::steady_clock::time_point due;
    std::function<void(SharedState&)> work;
  };
  std::deque<Job> queue;
  std::optional<KvWatch> watch;
  std::function<void(std::string)> on_revoked;
  bool stopping = false;
  std::thread thread;  // last: joined before the rest goes
};

SharedState::SharedState(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Result<std::shared_ptr<SharedState>> SharedState::open(const SharedStateOptions& options) {
  auto parts = std::make_unique<Parts>();
  parts->servers = options.servers;
  auto connection = connect_nats(options.servers, options.client_name);
  if (!connection) return std::move(connection).error();
  parts->connection = std::move(*connection);
  const bool create = options.create_with_replicas.has_value();
  const int replicas = options.create_with_replicas.value_or(1);
  auto bucket = [&](const char* name, const char* description) {
    return KvBucket::open(parts->connection.get(), KvBucketConfig{name, description, replicas},
                          create, options.servers.request_timeout);
  };
  auto revoked = bucket(kRevokedBucket, "palyra: revoked certificate fingerprints");
  if (!revoked) return std::move(revoked).error();
  parts->revoked.emplace(std::move(*revoked));
  auto tokens = bucket(kTokensBucket, "palyra: enrollment tokens (secret hashes only)");
  if (!tokens) return std::move(tokens).error();
  parts->tokens.emplace(std::move(*tokens));
  auto ledger = bucket(kLedgerBucket, "palyra: certificates issued by the gateway CA");
  if (!ledger) return std::move(ledger).error();
  parts->ledger.emplace(std::move(*ledger));
  auto devices = bucket(kDevicesBucket, "palyra: which device id each device holds");
  if (!devices) return std::move(devices).error();
  // A handle of its own on PALYRA_REVOKED: the claims are read on the
  // enrollment worker while the background thread watches through the other.
  auto revoked_for_claims = bucket(kRevokedBucket, "palyra: revoked certificate fingerprints");
  if (!revoked_for_claims) return std::move(revoked_for_claims).error();
  parts->claims.emplace(std::move(*devices), std::move(*revoked_for_claims));

  std::shared_ptr<SharedState> state(new SharedState(std::move(parts)));
  state->parts_->thread = std::thread([raw = state.get()] { raw->background_loop(); });
  return state;
}

SharedState::~SharedState() {
  {
    std::lock_guard lock(parts_->mutex);
    parts_->stopping = true;
    if (parts_->watch) parts_->watch->stop();
  }
  parts_->wake.notify_all();
  if (parts_->thread.joinable()) parts_->thread.join();
  parts_->watch.reset();
  parts_->tokens.reset();
  parts_->claims.reset();
  parts_->ledger.reset();
  parts_->revoked.reset();
  if (parts_->connection) natsConnection_Close(parts_->connection.get());
}

std::shared_ptr<identity::TokenStore> SharedState::tokens() {
  return std::shared_ptr<identity::TokenStore>(shared_from_this(), &*parts_->tokens);
}

std::shared_ptr<identity::DeviceClaims> SharedState::device_claims() {
  return std::shared_ptr<identity::DeviceClaims>(shared_from_this(), &*parts_->claims);
}

void SharedState::in_background(std::function<void(SharedState&)> work,
                                std::chrono::milliseconds delay) {
  {
    std::lock_guard lock(parts_->mutex);
    parts_->queue.push_back(Parts::Job{std::chrono::steady_clock::now() + delay, std::move(work)});
  }
  parts_->wake.notify_all();
}

void SharedState::background_loop() {
  bool watch_failing = false;
  for (;;) {
    std::vector<std::function<void(SharedState&)>> due;
    KvWatch* watch = nullptr;
    {
      std::unique_lock lock(parts_->mutex);
      for (;;) {
        if (parts_->stopping) return;
        const auto now = std::chrono::steady_clock::now();
        auto soonest = std::chrono::steady_clock::time_point::max();
        for (auto it = parts_->queue.begin(); it != parts_->queue.end();) {
          if (it->due <= now) {
            due.push_back(std::move(it->work));
            it = parts_->queue.erase(it);
          } else {
            soonest = std::min(soonest, it->due);
            ++it;
          }
        }
        // With a watch, its wait (kWatchPoll) paces the loop.
        if (!due.empty() || parts_->watch) break;
        if (parts_->queue.empty()) {
          parts_->wake.wait(lock);
        } else {
          parts_->wake.wait_until(lock, soonest);
        }
      }
      if (parts_->watch) watch = &*parts_->watch;
    }
    for (auto& job : due) job(*this);
    if (watch == nullptr) continue;
    // The watch is only reset after this thread has been joined.
    KvChange change;
    auto seen = watch->next(kWatchPoll, change);
    if (!seen) {
      // Stopped (the destructor), or the servers are away: the library
      // resubscribes when they are back; look again shortly.
      std::unique_lock lock(parts_->mutex);
      if (parts_->stopping) return;
      if (!watch_failing) spdlog::warn("cluster: revocation watch: {}", seen.error().describe());
      watch_failing = true;
      parts_->wake.wait_for(lock, kWatchPoll, [&] { return parts_->stopping; });
      continue;
    }
    watch_failing = false;
    if (*seen == KvWatch::Seen::Change && !change.deleted) parts_->on_revoked(change.key);
  }
}

Status SharedState::publish_revocations(const std::vector<std::string>& fingerprints,
                                        std::int64_t revoked_at_unix) {
  const std::string value = std::to_string(revoked_at_unix);
  for (const auto& fingerprint : fingerprints) {
    auto created = parts_->revoked->create(fingerprint, value);
    if (!created) return std::move(created).error();
  }
  return {};
}

Result<std::vector<std::string>> SharedState::watch_revocations(
    std::function<void(std::string fingerprint)> on_revoked) {
  {
    std::lock_guard lock(parts_->mutex);
    if (parts_->watch) return Error(Errc::InvalidArgument, "the revocations are watched already");
  }
  auto watch = parts_->revoked->watch_all();
  if (!watch) return std::move(watch).error();
  std::vector<std::string> current;
  for (;;) {
    KvChange change;
    auto seen = watch->next(parts_->servers.request_timeout, change);
    if (!seen) return std::move(seen).error();
    if (*seen == KvWatch::Seen::Nothing) {
      return Error(Errc::StorageFailed,
                   fmt::format("reading {}: no end of its content within {} ms", kRevokedBucket,
                               parts_->servers.request_timeout.count()));
    }
    if (*seen == KvWatch::Seen::CaughtUp) break;
    if (!change.deleted) current.push_back(std::move(change.key));
  }
  {
    std::lock_guard lock(parts_->mutex);
    parts_->on_revoked = std::move(on_revoked);
    parts_->watch.emplace(std::move(*watch));
  }
  parts_->wake.notify_all();
  return current;
}

Status SharedState::record_issued(const identity::LedgerEntry& entry) {
  auto created = parts_->ledger->create(entry.fingerprint, identity::ledger_entry_json(entry));
  if (!created) return std::move(created).error();
  return {};
}

Status SharedState::merge_ledger(const std::vector<identity::LedgerEntry>& entries) {
  KvBucket& bucket = *parts_->ledger;
  for (const auto& local : entries) {
    bool settled = false;
    for (int attempt = 0; attempt < kMaxAttempts && !settled; ++attempt) {
      auto current = bucket.get(local.fingerprint);
      if (!current) return std::move(current).error();
      if (!current->has_value()) {
        auto created = bucket.create(local.fingerprint, identity::ledger_entry_json(local));
        if (!created) return std::move(created).error();
        settled = *created;
        continue;
      }
      auto shared = identity::parse_ledger_entry(
          (*current)->value, fmt::format("{} entry {}", kLedgerBucket, local.fingerprint));
      if (!shared) return std::move(shared).error();
      if (!local.revoked_at_unix || shared->revoked_at_unix) break;
      shared->revoked_at_unix = local.revoked_at_unix;
      auto updated = bucket.update(local.fingerprint, identity::ledger_entry_json(*shared),
                                   (*current)->revision);
      if (!updated) return std::move(updated).error();
      settled = *updated;
    }
  }
  return {};
}

Result<std::vector<identity::LedgerEntry>> SharedState::ledger() {
  KvBucket& bucket = *parts_->ledger;
  auto keys = bucket.keys();
  if (!keys) return std::move(keys).error();
  std::vector<identity::LedgerEntry> entries;
  for (const auto& key : *keys) {
    auto value = bucket.get(key);
    if (!value) return std::move(value).error();
    if (!value->has_value()) continue;
    auto entry = identity::parse_ledger_entry((*value)->value,
                                              fmt::format("{} entry {}", kLedgerBucket, key));
    if (!entry) return std::move(entry).error();
    entries.push_back(std::move(*entry));
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return std::tie(a.not_before_unix, a.fingerprint) < std::tie(b.not_before_unix, b.fingerprint);
  });
  return entries;
}

}  // namespace palyra::cluster
