#include "store/store.h"

#include <openssl/sha.h>

#include <algorithm>
#include <ctime>
#include <set>

namespace certsync::store {

namespace {

int64_t system_clock_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

bool Store::seen(const std::string& id, const std::string& data_digest) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(id);
  return it != entries_.end() && !it->second.deleted && !data_digest.empty() &&
         it->second.data_digest == digest_of(data_digest);
}

Store::DataDigest Store::digest_of(const std::string& text) {
  DataDigest digest;
  if (text.empty()) return digest;
  digest.set = true;
  auto nibble = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  bool hex = text.size() == 2 * digest.bytes.size();
  for (size_t i = 0; hex && i < digest.bytes.size(); ++i) {
    const int high = nibble(text[2 * i]);
    const int low = nibble(text[2 * i + 1]);
    hex = high >= 0 && low >= 0;
    digest.bytes[i] = static_cast<unsigned char>(high << 4 | low);
  }
  // Anything but the SHA-256 hex that decode_secret gives (tests' made-up
  // digests) is hashed to the same size: equal texts, equal digests.
  if (!hex) SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.bytes.data());
  return digest;
}

void Store::apply(std::vector<SecretUpdate> updates) {
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& update : updates) changed |= apply_locked(update, generation_ + 1);
    if (changed) ++generation_;
    publish_visible_locked();
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
    if (!entry.deleted && listed.count(id) == 0 && in_scope(id, entry.type ? *entry.type : std::string()))
      vanished.push_back(id);
  for (const auto& id : vanished) changed |= remove_locked(id, "", next);
  listed_scopes_.insert(scope_index);
  const bool now_synced = listed_scopes_.size() >= scope_count_;
  // The first complete sync is a generation even when empty: it tells readers
  // the store now reflects the API server.
  const bool raised = changed || (now_synced && !synced_);
  if (raised) ++generation_;
  synced_ = now_synced;
  publish_visible_locked();
  lock.unlock();
  if (raised && on_change_) on_change_();
}

void Store::remove(const std::string& id, const std::string& resource_version, const std::string& type) {
  bool changed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(id);
    if (!type.empty() && it != entries_.end() && it->second.type && !it->second.type->empty() &&
        *it->second.type != type)
      return;
    changed = remove_locked(id, resource_version, generation_ + 1);
    if (changed) ++generation_;
    publish_visible_locked();
  }
  if (changed && on_change_) on_change_();
}

bool Store::apply_locked(SecretUpdate& update, uint64_t next_generation) {
  if (update.unchanged) {
    auto it = entries_.find(update.id);
    if (it != entries_.end() && it->second.resource_version != update.resource_version) {
      it->second.resource_version = update.resource_version;
      touch_locked(update.id, it->second);
    }
    return false;
  }
  if (!update.accepted && !update.refused) return remove_locked(update.id, update.resource_version, next_generation);
  Entry& entry = entries_[update.id];
  touch_locked(update.id, entry);
  entry.deleted = false;
  if (!update.uid.empty()) entry.uid = update.uid;
  if (!update.type.empty()) entry.type = type_locked(update.type);
  entry.resource_version = update.resource_version;
  entry.data_digest = digest_of(update.data_digest);
  if (update.refused) {
    refuse_locked(entry, std::move(*update.refused), update.resource_version);
    return false;  // the last good bundle, if any, keeps serving
  }
  tls::ValidBundle& bundle = *update.accepted;
  const int64_t now = now_locked();
  const ServedFacts* served = entry.served ? &*entry.served->bundle : nullptr;
  if (bundle.temporary && served && !served->temporary && served->not_after > now) {
    // cert-manager's placeholder must not push out a real certificate that still works.
    refuse_locked(entry,
                  tls::Refusal{"temporary_certificate_not_served",
                               "a temporary certificate (issuer " + bundle.issuer +
                                   ") is not served while certificate serial " + served->serial_hex +
                                   " is still valid"},
                  update.resource_version);
    return false;
  }
  if (bundle.expired && served && served->not_after > now) {
    // A write of an expired certificate (a restored backup, a stuck issuer)
    // would break every handshake: the one still valid keeps serving.
    refuse_locked(entry,
                  tls::Refusal{"expired_certificate_not_served",
                               "certificate serial " + bundle.serial_hex +
                                   " has expired and is not served while certificate serial " +
                                   served->serial_hex + " is still valid"},
                  update.resource_version);
    return false;
  }
  clear_refusal_locked(entry);
  if (bundle.not_yet_valid && bundle.deferred_until > now) {
    // Clients refuse a certificate before its notBefore: keep serving the
    // current one and switch when the new one becomes valid.
    next_due_ = std::min(next_due_, bundle.deferred_until);
    entry.deferred = std::make_shared<const DeferredBundle>(DeferredBundle{std::move(bundle), update.observed_at_ms});
    return false;
  }
  entry.deferred.reset();
  if (entry.served && serves_same(*entry.served, bundle)) return false;
  serve_locked(update.id, entry, std::move(bundle), next_generation, update.observed_at_ms);
  return true;
}

void Store::serve_locked(const std::string& id, Entry& entry, tls::ValidBundle bundle, uint64_t generation,
                         int64_t observed_at_ms) {
  entry.served = serving_change(id, std::move(bundle), observed_at_ms);
  entry.served_generation = generation;
  note_served_locked(generation, id);
  entry.served_since = now_locked();
  entry.expiry_noted = false;
  next_expiry_ = std::min(next_expiry_, entry.served->not_after);
  tombstones_.erase(id);
  touch_locked(id, entry);
}

std::shared_ptr<const std::string> Store::type_locked(const std::string& type) {
  auto& shared = types_[type];
  if (!shared) shared = std::make_shared<const std::string>(type);
  return shared;
}

int64_t Store::now_locked() const { return clock_ ? clock_() : system_clock_seconds(); }

void Store::refuse_locked(Entry& entry, tls::Refusal refusal, const std::string& resource_version) {
  // A snapshot taken by a reader may share the record: it is replaced, never changed.
  auto record = entry.refusals ? std::make_shared<RefusalRecord>(*entry.refusals) : std::make_shared<RefusalRecord>();
  ++record->counts[refusal.code];
  if (!record->last) record->since = now_locked();
  record->last = std::move(refusal);
  record->resource_version = resource_version;
  entry.refusals = std::move(record);
}

void Store::clear_refusal_locked(Entry& entry) {
  if (!entry.refused()) return;
  auto record = std::make_shared<RefusalRecord>(*entry.refusals);
  record->last.reset();
  record->resource_version.clear();
  record->since = 0;
  entry.refusals = std::move(record);
}

bool Store::remove_locked(const std::string& id, const std::string& resource_version,
                          uint64_t next_generation) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  Entry& entry = it->second;
  if (!resource_version.empty()) entry.resource_version = resource_version;
  entry.data_digest = DataDigest{};
  if (policy_ == DeletionPolicy::kKeep && entry.served) {
    entry.deleted = true;  // keeps serving; status says it is gone from the API
    touch_locked(id, entry);
    return false;
  }
  const bool was_served = entry.served != nullptr;
  status_order_.erase(entry.status_version);
  entries_.erase(it);
  status_tombstones_[id] = ++status_version_;
  while (status_tombstones_.size() > max_tombstones_) {
    auto oldest = std::min_element(status_tombstones_.begin(), status_tombstones_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    status_floor_ = std::max(status_floor_, oldest->second);
    status_tombstones_.erase(oldest);
  }
  if (!was_served) return false;
  add_tombstone_locked(id, next_generation);
  return true;
}

void Store::note_served_locked(uint64_t generation, const std::string& id) {
  if (generation <= served_log_floor_) return;  // that generation fell out of the log already
  served_log_[generation].push_back(id);
  ++served_log_ids_;
  // A relist serves thousands at one generation: it falls out of the log
  // at once, and a delta reaching back to it walks every entry, once.
  while (served_log_ids_ > kServedLogMax && !served_log_.empty()) {
    auto oldest = served_log_.begin();
    served_log_floor_ = std::max(served_log_floor_, oldest->first);
    served_log_ids_ -= oldest->second.size();
    served_log_.erase(oldest);
  }
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
  if (now < next_due_) return;
  bool changed = false;
  next_due_ = INT64_MAX;
  for (auto& [id, entry] : entries_) {
    if (!entry.deferred) continue;
    const int64_t due = entry.deferred->bundle.deferred_until;
    if (due > now) {
      next_due_ = std::min(next_due_, due);
      continue;
    }
    tls::ValidBundle bundle = entry.deferred->bundle;  // a reader's snapshot may share it
    entry.deferred.reset();
    // Its latency runs from the moment it became due, not from when it arrived early.
    serve_locked(id, entry, std::move(bundle), generation_ + 1, now * 1000);
    changed = true;
  }
  if (changed) ++generation_;
  publish_visible_locked();
}

void Store::publish_visible_locked() {
  visible_generation_.store(synced_ ? generation_ : 0);
  visible_synced_.store(synced_);
  visible_next_due_.store(next_due_);
}

void Store::touch_locked(const std::string& id, Entry& entry) {
  if (entry.status_version != 0) status_order_.erase(entry.status_version);
  entry.status_version = ++status_version_;
  status_order_.emplace(entry.status_version, &entries_.find(id)->first);
  status_tombstones_.erase(id);
}

void Store::note_expiries_locked() {
  const int64_t now = now_locked();
  if (now <= next_expiry_) return;
  next_expiry_ = INT64_MAX;
  for (auto& [id, entry] : entries_) {
    if (!entry.served || entry.expiry_noted) continue;
    if (entry.served->not_after < now) {
      entry.expiry_noted = true;
      touch_locked(id, entry);
    } else {
      next_expiry_ = std::min(next_expiry_, entry.served->not_after);
    }
  }
}

uint64_t Store::generation() {
  if (now_locked() < visible_next_due_.load()) return visible_generation_.load();
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return visible_generation_.load();  // a writer's change shows next time
  promote_due_locked();
  return synced_ ? generation_ : 0;
}

bool Store::synced() const { return visible_synced_.load(); }

ChangeSet Store::changes_since(uint64_t since) {
  ChangeSet set;
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {
    set.generation = since;  // nothing yet: ask again
    return set;
  }
  promote_due_locked();
  set.generation = synced_ ? generation_ : 0;
  set.full = since == 0 || since < delta_floor_ || since > generation_;
  if (!set.full && since >= served_log_floor_) {
    // A renewal or two since `since`: the log names them, and the caller
    // (every publication of the owner) does not walk 50,000 entries to
    // find them. In id order, as the walk below gives them.
    std::vector<const std::string*> ids;
    for (auto it = served_log_.upper_bound(since); it != served_log_.end(); ++it)
      for (const auto& id : it->second) ids.push_back(&id);
    std::sort(ids.begin(), ids.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    ids.erase(std::unique(ids.begin(), ids.end(), [](const std::string* a, const std::string* b) { return *a == *b; }),
              ids.end());
    for (const std::string* id : ids) {
      auto it = entries_.find(*id);
      if (it != entries_.end() && it->second.served && it->second.served_generation > since)
        set.changes.push_back(it->second.served);
    }
  } else {
    for (const auto& [id, entry] : entries_) {
      if (entry.served && (set.full || entry.served_generation > since))
        set.changes.push_back(entry.served);
    }
  }
  if (!set.full) {
    for (const auto& [id, removed_at] : tombstones_) {
      if (removed_at > since) {
        auto change = std::make_shared<Change>();
        change->id = id;
        change->removed = true;
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
  for (const auto& [id, entry] : entries_) secrets.push_back(status_json(id, entry, now));
  return {{"generation", synced_ ? generation_ : 0}, {"synced", synced_}, {"secrets", std::move(secrets)}};
}

StatusDelta Store::status_since(uint64_t version) {
  StatusDelta delta;
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {
    delta.version = version;  // nothing yet: ask again
    return delta;
  }
  promote_due_locked();
  note_expiries_locked();
  delta.version = status_version_;
  delta.now = now_locked();
  delta.full = version == 0 || version < status_floor_ || version > status_version_;
  if (delta.full) {
    for (const auto& [id, entry] : entries_) delta.secrets.emplace_back(id, static_cast<const SecretStatus&>(entry));
  } else {
    // Only what changed since `version`: the caller asks every second, and
    // walking 10,000 entries to find none held its event loop 3 ms.
    for (auto it = status_order_.upper_bound(version); it != status_order_.end(); ++it) {
      delta.secrets.emplace_back(*it->second, static_cast<const SecretStatus&>(entries_.find(*it->second)->second));
    }
  }
  if (!delta.full) {
    for (const auto& [id, forgotten_at] : status_tombstones_) {
      if (forgotten_at > version) delta.removed.push_back(id);
    }
  }
  return delta;
}

}  // namespace certsync::store
