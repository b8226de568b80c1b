#include "store/store.h"

#include <algorithm>
#include <ctime>
#include <set>

namespace certsync::store {

namespace {

bool same_bundle(const tls::ValidBundle& a, const tls::ValidBundle& b) {
  return a.cert_pem == b.cert_pem && a.key_pem == b.key_pem && a.snis == b.snis;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out.push_back(' ');
    out += part;
  }
  return out;
}

Change change_for(const std::string& id, const tls::ValidBundle& bundle, int64_t observed_at_ms) {
  Change change;
  change.observed_at_ms = observed_at_ms;
  change.id = id;
  change.snis = join(bundle.snis);
  change.cert_pem = bundle.cert_pem;
  change.key_pem = bundle.key_pem;
  change.serial = bundle.serial_hex;
  change.not_before = bundle.not_before;
  change.not_after = bundle.not_after;
  change.key_type = bundle.key_type;
  return change;
}

int64_t system_clock_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

nlohmann::json bundle_status(const tls::ValidBundle& bundle) {
  return {{"serial", bundle.serial_hex},
          {"fingerprint_sha256", bundle.fingerprint_sha256},
          {"subject", bundle.subject},
          {"issuer", bundle.issuer},
          {"snis", bundle.snis},
          {"not_before", bundle.not_before},
          {"not_after", bundle.not_after},
          {"expired", bundle.expired},
          {"temporary", bundle.temporary},
          {"key_type", bundle.key_type},
          {"chain_length", bundle.chain_length}};
}

const char* state_of(bool deleted, bool refused, const tls::ValidBundle* served, bool deferred, int64_t now) {
  if (deleted && served) return "kept_after_delete";
  if (refused) return "refused";
  if (served && served->not_after < now) return "expired";
  if (deferred) return "deferred";
  return "serving";
}

std::string namespace_of(const std::string& id) { return id.substr(0, id.find('/')); }
std::string name_of(const std::string& id) {
  const size_t slash = id.find('/');
  return slash == std::string::npos ? id : id.substr(slash + 1);
}

}  // namespace

bool Store::seen(const std::string& id, const std::string& data_digest) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(id);
  return it != entries_.end() && !it->second.deleted && !data_digest.empty() &&
         it->second.data_digest == data_digest;
}

void Store::apply(std::vector<SecretUpdate> updates) {
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& update : updates) changed |= apply_locked(update, generation_ + 1);
    if (changed) ++generation_;
  }
  if (changed && on_change_) on_change_();
}

void Store::replace_all(size_t scope_index, const InScope& in_scope, std::vector<SecretUpdate> updates) {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t next = generation_ + 1;
  bool changed = false;
  std::set<std::string> listed;
  for (auto& update : updates) {
    listed.insert(update.id);
    changed |= apply_locked(update, next);
  }
  std::vector<std::string> vanished;
  for (const auto& [id, entry] : entries_)
    if (!entry.deleted && listed.count(id) == 0 && in_scope(id, entry.type)) vanished.push_back(id);
  for (const auto& id : vanished) changed |= remove_locked(id, "", next);
  listed_scopes_.insert(scope_index);
  const bool now_synced = listed_scopes_.size() >= scope_count_;
  // The first complete sync is a generation even when empty: it tells readers
  // the store now reflects the API server.
  const bool raised = changed || (now_synced && !synced_);
  if (raised) ++generation_;
  synced_ = now_synced;
  lock.unlock();
  if (raised && on_change_) on_change_();
}

void Store::remove(const std::string& id, const std::string& resource_version, const std::string& type) {
  bool changed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(id);
    if (!type.empty() && it != entries_.end() && !it->second.type.empty() && it->second.type != type) return;
    changed = remove_locked(id, resource_version, generation_ + 1);
    if (changed) ++generation_;
  }
  if (changed && on_change_) on_change_();
}

bool Store::apply_locked(SecretUpdate& update, uint64_t next_generation) {
  if (update.unchanged) {
    auto it = entries_.find(update.id);
    if (it != entries_.end()) it->second.resource_version = update.resource_version;
    return false;
  }
  if (!update.accepted && !update.refused) return remove_locked(update.id, update.resource_version, next_generation);
  Entry& entry = entries_[update.id];
  entry.deleted = false;
  if (!update.uid.empty()) entry.uid = update.uid;
  if (!update.type.empty()) entry.type = update.type;
  entry.resource_version = update.resource_version;
  entry.data_digest = update.data_digest;
  if (update.refused) {
    refuse_locked(entry, std::move(*update.refused), update.resource_version);
    return false;  // the last good bundle, if any, keeps serving
  }
  tls::ValidBundle& bundle = *update.accepted;
  const int64_t now = now_locked();
  if (bundle.temporary && entry.served && !entry.served->temporary && entry.served->not_after > now) {
    // cert-manager's placeholder must not push out a real certificate that still works.
    refuse_locked(entry,
                  tls::Refusal{"temporary_certificate_not_served",
                               "a temporary certificate (issuer " + bundle.issuer +
                                   ") is not served while certificate serial " + entry.served->serial_hex +
                                   " is still valid"},
                  update.resource_version);
    return false;
  }
  entry.last_refusal.reset();
  entry.refused_resource_version.clear();
  entry.refused_since = 0;
  if (bundle.not_yet_valid && bundle.deferred_until > now) {
    // Clients refuse a certificate before its notBefore: keep serving the
    // current one and switch when the new one becomes valid.
    entry.deferred = std::move(update.accepted);
    entry.deferred_observed_at_ms = update.observed_at_ms;
    return false;
  }
  entry.deferred.reset();
  if (entry.served && same_bundle(*entry.served, bundle)) return false;
  entry.served = std::move(update.accepted);
  entry.served_generation = next_generation;
  entry.served_since = now;
  entry.served_observed_at_ms = update.observed_at_ms;
  tombstones_.erase(update.id);
  return true;
}

int64_t Store::now_locked() const { return clock_ ? clock_() : system_clock_seconds(); }

void Store::refuse_locked(Entry& entry, tls::Refusal refusal, const std::string& resource_version) {
  ++entry.refusals[refusal.code];
  if (!entry.last_refusal) entry.refused_since = now_locked();
  entry.last_refusal = std::move(refusal);
  entry.refused_resource_version = resource_version;
}

bool Store::remove_locked(const std::string& id, const std::string& resource_version,
                          uint64_t next_generation) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  Entry& entry = it->second;
  if (!resource_version.empty()) entry.resource_version = resource_version;
  entry.data_digest.clear();
  if (policy_ == DeletionPolicy::kKeep && entry.served) {
    entry.deleted = true;  // keeps serving; status says it is gone from the API
    return false;
  }
  const bool was_served = entry.served.has_value();
  entries_.erase(it);
  if (!was_served) return false;
  add_tombstone_locked(id, next_generation);
  return true;
}

void Store::add_tombstone_locked(const std::string& id, uint64_t generation) {
  tombstones_[id] = generation;
  while (tombstones_.size() > max_tombstones_) {
    auto oldest = std::min_element(tombstones_.begin(), tombstones_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    delta_floor_ = std::max(delta_floor_, oldest->second);
    tombstones_.erase(oldest);
  }
}

void Store::promote_due_locked() {
  const int64_t now = now_locked();
  bool changed = false;
  for (auto& [id, entry] : entries_) {
    if (!entry.deferred || entry.deferred->deferred_until > now) continue;
    entry.served = std::move(entry.deferred);
    entry.deferred.reset();
    entry.served_generation = generation_ + 1;
    entry.served_since = now;
    // Its latency runs from the moment it became due, not from when it arrived early.
    entry.served_observed_at_ms = now * 1000;
    tombstones_.erase(id);
    changed = true;
  }
  if (changed) ++generation_;
}

uint64_t Store::generation() {
  std::lock_guard<std::mutex> lock(mutex_);
  promote_due_locked();
  return synced_ ? generation_ : 0;
}

bool Store::synced() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return synced_;
}

ChangeSet Store::changes_since(uint64_t since) {
  std::lock_guard<std::mutex> lock(mutex_);
  promote_due_locked();
  ChangeSet set;
  set.generation = synced_ ? generation_ : 0;
  set.full = since == 0 || since < delta_floor_ || since > generation_;
  for (const auto& [id, entry] : entries_) {
    if (entry.served && (set.full || entry.served_generation > since))
      set.changes.push_back(change_for(id, *entry.served, entry.served_observed_at_ms));
  }
  if (!set.full) {
    for (const auto& [id, removed_at] : tombstones_) {
      if (removed_at > since) {
        Change change;
        change.id = id;
        change.removed = true;
        set.changes.push_back(std::move(change));
      }
    }
  }
  return set;
}

nlohmann::json Store::status() {
  std::lock_guard<std::mutex> lock(mutex_);
  promote_due_locked();
  const int64_t now = now_locked();
  nlohmann::json secrets = nlohmann::json::array();
  for (const auto& [id, entry] : entries_) {
    nlohmann::json item = {{"id", id},
                           {"namespace", namespace_of(id)},
                           {"name", name_of(id)},
                           {"uid", entry.uid},
                           {"type", entry.type},
                           {"resource_version", entry.resource_version},
                           {"deleted", entry.deleted},
                           {"state", state_of(entry.deleted, entry.last_refusal.has_value(),
                                              entry.served ? &*entry.served : nullptr, entry.deferred.has_value(),
                                              now)}};
    if (entry.served) {
      item["served"] = bundle_status(*entry.served);
      item["served"]["since"] = entry.served_since;
      item["served"]["generation"] = entry.served_generation;
    }
    if (entry.deferred) {
      item["deferred"] = bundle_status(*entry.deferred);
      item["deferred"]["serve_from"] = entry.deferred->deferred_until;
    }
    if (entry.last_refusal) {
      item["refusal"] = {{"code", entry.last_refusal->code},
                         {"message", entry.last_refusal->message},
                         {"resource_version", entry.refused_resource_version},
                         {"since", entry.refused_since}};
    }
    item["refusals"] = nlohmann::json::object();
    for (const auto& [code, count] : entry.refusals) item["refusals"][code] = count;
    secrets.push_back(std::move(item));
  }
  return {{"generation", synced_ ? generation_ : 0}, {"synced", synced_}, {"secrets", std::move(secrets)}};
}

}  // namespace certsync::store
