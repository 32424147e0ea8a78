// A JetStream key-value bucket as the cluster's shared state uses it: get,
// create-if-absent, compare-and-set on the revision, put, and a watcher.
// Every call blocks for at most the connection's request timeout: call
// them off the event loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nats_handles.hpp"

namespace palyra::cluster {

struct KvValue {
  std::string value;
  std::uint64_t revision = 0;
};

// One change seen by a watcher: a value put, or the key deleted/purged.
struct KvChange {
  std::string key;
  std::string value;  // empty for a deletion
  std::uint64_t revision = 0;
  bool deleted = false;
};

class KvWatch {
 public:
  // What next() saw: a change, the end of the bucket's current content (once,
  // after every key's latest value was delivered), or nothing in time.
  enum class Seen { Change, CaughtUp, Nothing };

  explicit KvWatch(NatsPtr<kvWatcher> watcher) : watcher_(std::move(watcher)) {}
  // Waits up to `timeout`. StorageFailed once stopped or on a failure.
  Result<Seen> next(std::chrono::milliseconds timeout, KvChange& change);
  // Thread-safe: a next() waiting returns at once, with an error.
  void stop() noexcept;

 private:
  NatsPtr<kvWatcher> watcher_;
};

struct KvBucketConfig {
  std::string name;  // the bucket (JetStream stream KV_<name>)
  std::string description;
  int replicas = 1;  // used when the bucket is created
};

class KvBucket {
 public:
  // Binds to the bucket; creates it when it is missing and `create` is set
  // (two gateways creating it at once both succeed: the config is the same).
  // NotFound when missing and not `create`; StorageFailed.
  static Result<KvBucket> open(natsConnection* connection, const KvBucketConfig& config,
                               bool create, std::chrono::milliseconds timeout);

  const std::string& name() const noexcept { return name_; }

  // The key's latest value; nullopt when it has none (never set, deleted).
  Result<std::optional<KvValue>> get(std::string_view key);
  // Stores the value if the key has none. False when it has one. The new
  // revision goes to `revision` if given.
  Result<bool> create(std::string_view key, std::string_view value,
                      std::uint64_t* revision = nullptr);
  // Stores the value if the key's latest revision is `last_revision` (the
  // compare-and-set). False when another writer got there first. The new
  // revision goes to `revision` if given.
  Result<bool> update(std::string_view key, std::string_view value, std::uint64_t last_revision,
                      std::uint64_t* revision = nullptr);
  Status put(std::string_view key, std::string_view value);
  Status purge(std::string_view key);
  // Every key holding a value.
  Result<std::vector<std::string>> keys();
  // Watches every key: first each key's latest value, then CaughtUp, then
  // every change as it happens.
  Result<KvWatch> watch_all();

 private:
  KvBucket(std::string name, NatsPtr<jsCtx> js, NatsPtr<kvStore> kv)
      : name_(std::move(name)), js_(std::move(js)), kv_(std::move(kv)) {}
  std::string what(std::string_view doing, std::string_view key) const;

  std::string name_;
  NatsPtr<jsCtx> js_;
  NatsPtr<kvStore> kv_;  // after js_: destroyed first
};

}  // namespace palyra::cluster
