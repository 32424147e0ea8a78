#include "kv_bucket.hpp"

#include <fmt/format.h>

namespace palyra::cluster {

namespace {

std::string text(std::string_view view) {
  return std::string(view);
}

KvChange change_of(kvEntry* entry) {
  KvChange change;
  change.key = kvEntry_Key(entry);
  change.revision = kvEntry_Revision(entry);
  const kvOperation op = kvEntry_Operation(entry);
  change.deleted = op == kvOp_Delete || op == kvOp_Purge;
  if (!change.deleted && kvEntry_ValueLen(entry) > 0) {
    change.value.assign(static_cast<const char*>(kvEntry_Value(entry)),
                        static_cast<std::size_t>(kvEntry_ValueLen(entry)));
  }
  return change;
}

}  // namespace

Result<KvWatch::Seen> KvWatch::next(std::chrono::milliseconds timeout, KvChange& change) {
  kvEntry* raw = nullptr;
  const natsStatus status = kvWatcher_Next(&raw, watcher_.get(), timeout.count());
  NatsPtr<kvEntry> entry(raw);
  if (status == NATS_TIMEOUT) return Seen::Nothing;
  if (status != NATS_OK) return nats_error("watching a key-value bucket", status);
  // A null entry with NATS_OK: every key's latest value has been delivered.
  if (!entry) return Seen::CaughtUp;
  change = change_of(entry.get());
  return Seen::Change;
}

void KvWatch::stop() noexcept {
  (void)kvWatcher_Stop(watcher_.get());
}

Result<KvBucket> KvBucket::open(natsConnection* connection, const KvBucketConfig& config,
                                bool create, std::chrono::milliseconds timeout) {
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = timeout.count();
  jsCtx* raw_js = nullptr;
  natsStatus status = natsConnection_JetStream(&raw_js, connection, &js_options);
  NatsPtr<jsCtx> js(raw_js);
  if (status != NATS_OK) return nats_error("JetStream context", status);

  kvStore* raw_kv = nullptr;
  status = js_KeyValue(&raw_kv, js.get(), config.name.c_str());
  NatsPtr<kvStore> kv(raw_kv);
  if (status == NATS_NOT_FOUND && !create) {
    return Error(Errc::NotFound,
                 fmt::format("no key-value bucket {} (a gateway in cluster mode creates it at "
                             "start)",
                             config.name));
  }
  if (status == NATS_NOT_FOUND) {
    kvConfig kv_config;
    kvConfig_Init(&kv_config);
    kv_config.Bucket = config.name.c_str();
    kv_config.Description = config.description.c_str();
    kv_config.History = 1;  // the latest value is all we read
    kv_config.StorageType = js_FileStorage;
    kv_config.Replicas = config.replicas;
    raw_kv = nullptr;
    status = js_CreateKeyValue(&raw_kv, js.get(), &kv_config);
    kv.reset(raw_kv);
  }
  if (status != NATS_OK) return nats_error("key-value bucket " + config.name, status);
  return KvBucket(config.name, std::move(js), std::move(kv));
}

std::string KvBucket::what(std::string_view doing, std::string_view key) const {
  return fmt::format("{} {}/{}", doing, name_, key);
}

Result<std::optional<KvValue>> KvBucket::get(std::string_view key) {
  kvEntry* raw = nullptr;
  const natsStatus status = kvStore_Get(&raw, kv_.get(), text(key).c_str());
  NatsPtr<kvEntry> entry(raw);
  if (status == NATS_NOT_FOUND) return std::optional<KvValue>{};
  if (status != NATS_OK) return nats_error(what("reading", key), status);
  const KvChange change = change_of(entry.get());
  if (change.deleted) return std::optional<KvValue>{};
  return std::optional<KvValue>(KvValue{change.value, change.revision});
}

Result<bool> KvBucket::create(std::string_view key, std::string_view value,
                              std::uint64_t* revision) {
  const natsStatus status = kvStore_Create(revision, kv_.get(), text(key).c_str(), value.data(),
                                           static_cast<int>(value.size()));
  if (status == NATS_OK) return true;
  Error failed = nats_error(what("creating", key), status);
  // The library does not say why: a key that holds a value now is "exists".
  auto current = get(key);
  if (current && current->has_value()) return false;
  return failed;
}

Result<bool> KvBucket::update(std::string_view key, std::string_view value,
                              std::uint64_t last_revision, std::uint64_t* revision) {
  const natsStatus status = kvStore_Update(revision, kv_.get(), text(key).c_str(), value.data(),
                                           static_cast<int>(value.size()), last_revision);
  if (status == NATS_OK) return true;
  Error failed = nats_error(what("updating", key), status);
  // A revision that moved on is the compare-and-set losing, not a failure.
  auto current = get(key);
  if (current && (!current->has_value() || (*current)->revision != last_revision)) return false;
  return failed;
}

Status KvBucket::put(std::string_view key, std::string_view value) {
  const natsStatus status = kvStore_Put(nullptr, kv_.get(), text(key).c_str(), value.data(),
                                        static_cast<int>(value.size()));
  if (status != NATS_OK) return nats_error(what("writing", key), status);
  return {};
}

Status KvBucket::purge(std::string_view key) {
  const natsStatus status = kvStore_Purge(kv_.get(), text(key).c_str(), nullptr);
  if (status != NATS_OK) return nats_error(what("purging", key), status);
  return {};
}

Result<std::vector<std::string>> KvBucket::keys() {
  kvKeysList list{};
  const natsStatus status = kvStore_Keys(&list, kv_.get(), nullptr);
  std::vector<std::string> out;
  if (status == NATS_OK) {
    for (int i = 0; i < list.Count; ++i) out.emplace_back(list.Keys[i]);
  }
  kvKeysList_Destroy(&list);
  // An empty bucket is "not found" to the library.
  if (status == NATS_NOT_FOUND) return out;
  if (status != NATS_OK) return nats_error("listing the keys of " + name_, status);
  return out;
}

Result<KvWatch> KvBucket::watch_all() {
  kvWatcher* raw = nullptr;
  const natsStatus status = kvStore_WatchAll(&raw, kv_.get(), nullptr);
  NatsPtr<kvWatcher> watcher(raw);
  if (status != NATS_OK) return nats_error("watching " + name_, status);
  return KvWatch(std::move(watcher));
}

}  // namespace palyra::cluster
