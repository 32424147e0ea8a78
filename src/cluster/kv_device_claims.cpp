#include "kv_device_claims.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

#include "palyra/common/clock.hpp"

namespace palyra::cluster {

namespace {

// How often a compare-and-set on one claim is tried again: each retry means
// another gateway changed this very claim in between.
constexpr int kMaxAttempts = 16;

// An enrollment's id, told apart from another's taking the same device id:
// unique, not secret.
std::string new_holder() {
  std::random_device random;
  const std::uint64_t high = random();
  const std::uint64_t low = random();
  return fmt::format("{:016x}", (high << 32U) ^ low);
}

std::string record_json(const KvDeviceClaims::Record& record) {
  return nlohmann::json{{"device_id", record.device_id},
                        {"fingerprint", record.fingerprint},
                        {"not_after_unix", record.not_after_unix},
                        {"claimed_at_unix", record.claimed_at_unix},
                        {"holder", record.holder}}
      .dump();
}

Result<KvDeviceClaims::Record> parse_record(std::string_view text, std::string_view origin) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Error(Errc::IoFailed, fmt::format("{} is not a JSON object", origin));
  }
  KvDeviceClaims::Record record;
  auto text_field = [&](const char* name, std::string& out) {
    auto it = json.find(name);
    if (it == json.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  auto number_field = [&](const char* name, std::int64_t& out) {
    auto it = json.find(name);
    if (it == json.end() || !it->is_number_integer()) return false;
    out = it->get<std::int64_t>();
    return true;
  };
  for (const auto& [name, ok] :
       {std::pair{"device_id", text_field("device_id", record.device_id)},
        std::pair{"fingerprint", text_field("fingerprint", record.fingerprint)},
        std::pair{"not_after_unix", number_field("not_after_unix", record.not_after_unix)},
        std::pair{"claimed_at_unix", number_field("claimed_at_unix", record.claimed_at_unix)},
        std::pair{"holder", text_field("holder", record.holder)}}) {
    if (!ok) return Error(Errc::IoFailed, fmt::format("{}: '{}' missing or wrong", origin, name));
  }
  return record;
}

KvDeviceClaims::Record held_by(const identity::LedgerEntry& certificate, std::int64_t now_unix) {
  return {certificate.device_id, certificate.fingerprint, certificate.not_after_unix, now_unix, ""};
}

// An enrollment's claim, until its certificate is issued.
class KvDeviceClaim final : public identity::DeviceClaim {
 public:
  KvDeviceClaim(KvDeviceClaims& claims, std::string device_id, std::string holder,
                std::int64_t claimed_at_unix, std::optional<std::string> previous,
                std::uint64_t revision)
      : claims_(claims),
        device_id_(std::move(device_id)),
        holder_(std::move(holder)),
        claimed_at_unix_(claimed_at_unix),
        previous_(std::move(previous)),
        revision_(revision) {}

  // Gives the id back as it was before the claim (or released: a record that
  // holds nothing), unless someone else changed the claim since. Best effort:
  // a claim left behind lapses after kPendingClaimLifetime, so nothing that
  // fails here (allocation included) may escape a destructor.
  ~KvDeviceClaim() override {
    if (settled_) return;
    try {
      release();
    } catch (...) {
      // Not given back: the claim lapses by itself.
    }
  }
  KvDeviceClaim(const KvDeviceClaim&) = delete;
  KvDeviceClaim& operator=(const KvDeviceClaim&) = delete;

  void release() {
    const std::string back =
        previous_ ? *previous_ : record_json({device_id_, "", 0, claimed_at_unix_, ""});
    auto released = claims_.bucket().update(device_claim_key(device_id_), back, revision_, nullptr);
    if (!released) {
      spdlog::warn("cluster: claim on device id '{}' not released (it lapses within {} s): {}",
                   device_id_, kPendingClaimLifetime.count(), released.error().describe());
    }
  }

  Status settle(const identity::LedgerEntry& certificate) override {
    settled_ = true;  // the certificate exists now: never give the id back
    auto stored = claims_.bucket().update(device_claim_key(device_id_),
                                          record_json(held_by(certificate, claimed_at_unix_)),
                                          revision_, nullptr);
    if (!stored) return std::move(stored).error();
    if (!*stored) {
      return Error(Errc::AlreadyExists,
                   fmt::format("device id '{}': the enrollment's claim was taken over before "
                               "certificate {} was recorded in it (more than {} s, or a token "
                               "bound to the id enrolled meanwhile)",
                               device_id_, certificate.fingerprint, kPendingClaimLifetime.count()));
    }
    return {};
  }

 private:
  KvDeviceClaims& claims_;
  std::string device_id_;
  std::string holder_;
  std::int64_t claimed_at_unix_;
  std::optional<std::string> previous_;  // the value the claim replaced
  std::uint64_t revision_;               // the claim's, as written by claim()
  bool settled_ = false;
};

}  // namespace

std::string device_claim_key(std::string_view device_id) {
  std::string key(device_id);
  std::replace(key.begin(), key.end(), '.', '=');
  return key;
}

Result<std::optional<KvDeviceClaims::Found>> KvDeviceClaims::find(std::string_view device_id) {
  const std::string key = device_claim_key(device_id);
  auto value = devices_.get(key);
  if (!value) return std::move(value).error();
  if (!value->has_value()) return std::optional<Found>{};
  auto record =
      parse_record((*value)->value, fmt::format("{} claim {}", devices_.name(), device_id));
  if (!record) return std::move(record).error();
  return std::optional<Found>(Found{std::move(*record), (*value)->value, (*value)->revision});
}

Result<bool> KvDeviceClaims::holds(const Record& record, std::int64_t now_unix) {
  if (record.fingerprint.empty()) {
    return !record.holder.empty() &&
           record.claimed_at_unix + kPendingClaimLifetime.count() > now_unix;
  }
  if (record.not_after_unix <= now_unix) return false;
  auto revoked = revoked_.get(record.fingerprint);
  if (!revoked) return std::move(revoked).error();
  return !revoked->has_value();
}

Result<std::unique_ptr<identity::DeviceClaim>> KvDeviceClaims::claim(std::string_view device_id,
                                                                     bool replace,
                                                                     identity::SystemTime now) {
  PALYRA_TRY(identity::validate_device_id(device_id));
  const std::string key = device_claim_key(device_id);
  const std::int64_t now_unix = unix_seconds(now);
  const Record mine{std::string(device_id), "", 0, now_unix, new_holder()};
  const std::string value = record_json(mine);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto found = find(device_id);
    if (!found) return std::move(found).error();
    std::uint64_t revision = 0;
    std::optional<std::string> previous;
    Result<bool> stored = false;
    if (!found->has_value()) {
      stored = devices_.create(key, value, &revision);
    } else {
      auto held = holds((*found)->record, now_unix);
      if (!held) return std::move(held).error();
      if (*held && !replace) {
        if ((*found)->record.fingerprint.empty()) {
          return Error(Errc::AlreadyExists,
                       fmt::format("device id '{}' is being enrolled right now (through this or "
                                   "another gateway of the cluster)",
                                   device_id));
        }
        return Error(Errc::AlreadyExists,
                     fmt::format("device id '{}' belongs to a device with a valid certificate "
                                 "({}, enrolled through any gateway of the cluster)",
                                 device_id, (*found)->record.fingerprint));
      }
      // Given back as it was if this enrollment fails: a device replaced by
      // a bound token keeps its id when the replacement does not happen.
      if (*held) previous = (*found)->value;
      stored = devices_.update(key, value, (*found)->revision, &revision);
    }
    if (!stored) return std::move(stored).error();
    if (*stored) {
      return std::unique_ptr<identity::DeviceClaim>(std::make_unique<KvDeviceClaim>(
          *this, mine.device_id, mine.holder, now_unix, std::move(previous), revision));
    }
    // Another gateway changed the claim since we read it: decide again.
  }
  return Error(Errc::StorageFailed, fmt::format("device id '{}': gave up after {} concurrent "
                                                "changes of its claim",
                                                device_id, kMaxAttempts));
}

Status KvDeviceClaims::keep(const identity::LedgerEntry& certificate, identity::SystemTime now) {
  const std::int64_t now_unix = unix_seconds(now);
  if (certificate.kind != "device" || certificate.revoked_at_unix ||
      certificate.not_after_unix <= now_unix) {
    return {};
  }
  auto revoked = revoked_.get(certificate.fingerprint);
  if (!revoked) return std::move(revoked).error();
  if (revoked->has_value()) return {};
  const std::string key = device_claim_key(certificate.device_id);
  const std::string value = record_json(held_by(certificate, now_unix));
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto found = find(certificate.device_id);
    if (!found) return std::move(found).error();
    Result<bool> stored = false;
    if (!found->has_value()) {
      stored = devices_.create(key, value);
    } else {
      const Record& current = (*found)->record;
      if (current.fingerprint == certificate.fingerprint) return {};
      auto held = holds(current, now_unix);
      if (!held) return std::move(held).error();
      // An enrollment in progress settles the claim itself; a certificate
      // that lasts longer keeps it.
      if (*held &&
          (current.fingerprint.empty() || current.not_after_unix >= certificate.not_after_unix)) {
        return {};
      }
      stored = devices_.update(key, value, (*found)->revision);
    }
    if (!stored) return std::move(stored).error();
    if (*stored) return {};
  }
  return Error(Errc::StorageFailed, fmt::format("device id '{}': gave up after {} concurrent "
                                                "changes of its claim",
                                                certificate.device_id, kMaxAttempts));
}

}  // namespace palyra::cluster
