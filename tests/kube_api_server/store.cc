#include "store.h"

#include <algorithm>

#include "base64.h"
#include "secret_object.h"

namespace kube_test {
namespace {

std::string meta_string(const Json &obj, const char *field) {
  const Json &m = obj["metadata"];
  auto it = m.find(field);
  return it != m.end() && it->is_string() ? it->get<std::string>()
                                          : std::string();
}

void set_rv(Json &obj, uint64_t rv) {
  obj["metadata"]["resourceVersion"] = std::to_string(rv);
}

Json watch_event(const char *type, const Json &object) {
  Json e;
  e["type"] = type;
  e["object"] = object;
  return e;
}

// Continue tokens look like the real server's: base64url (no padding) of
// {"v":"meta.k8s.io/v1","rv":N,"start":"<last key>\u0000"}.
std::string encode_continue(int64_t rv, const std::string &last_key) {
  Json t;
  t["v"] = "meta.k8s.io/v1";
  t["rv"] = rv;
  t["start"] = last_key + std::string(1, '\0');
  return base64_url_encode_raw(t.dump());
}

bool decode_continue(const std::string &token, int64_t &rv,
                     std::string &start) {
  auto raw = base64_decode_lenient(token);
  if (!raw) return false;
  Json t = Json::parse(*raw, nullptr, false);
  if (!t.is_object() || t.value("v", std::string()) != "meta.k8s.io/v1" ||
      !t.contains("rv") || !t["rv"].is_number_integer() ||
      !t.contains("start") || !t["start"].is_string()) {
    return false;
  }
  rv = t["rv"].get<int64_t>();
  start = t["start"].get<std::string>();
  return true;
}

bool parse_rv(const std::string &s, uint64_t &out) {
  if (s.empty() || s.size() > 19 ||
      s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  out = std::stoull(s);
  return true;
}

}  // namespace

ObjectKind secret_kind() { return ObjectKind{}; }

SecretStore::SecretStore(size_t history_limit, uint64_t initial_rv,
                         ObjectKind kind)
    : history_limit_(std::max<size_t>(1, history_limit)),
      kind_(std::move(kind)),
      current_rv_(initial_rv),
      compacted_rv_(initial_rv) {}

Json SecretStore::canonical(const Json &object) const {
  return kind_.canonical ? kind_.canonical(object) : canonical_secret(object);
}

void SecretStore::record(Event event) {
  history_.push_back(std::move(event));
  while (history_.size() > history_limit_) {
    compacted_rv_ = history_.front().rv;
    history_.pop_front();
  }
  changed_.notify_all();
}

StoreResult SecretStore::create(Json secret) {
  const std::string ns = meta_string(secret, "namespace");
  const std::string name = meta_string(secret, "name");
  std::lock_guard<std::mutex> lock(mu_);
  const Key key = key_of(ns, name);
  if (objects_.count(key) != 0) return {already_exists(name, kind_.resource, kind_.group), Json()};
  Json &meta = secret["metadata"];
  meta["uid"] = new_uid();
  meta["creationTimestamp"] = now_rfc3339();
  meta.erase("deletionTimestamp");
  set_rv(secret, ++current_rv_);
  secret = canonical(secret);
  objects_[key] = secret;
  record({current_rv_, "ADDED", ns, name, secret, Json()});
  return {std::nullopt, secret};
}

StoreResult SecretStore::update(const std::string &ns, const std::string &name,
                                const Mutator &mutate) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key_of(ns, name));
  if (it == objects_.end()) return {not_found(name, kind_.resource, kind_.group), Json()};
  const Json current = it->second;
  Json next;
  if (auto err = mutate(current, next)) return {err, Json()};
  // Server-owned fields survive whatever the client sent.
  Json &meta = next["metadata"];
  meta["name"] = name;
  meta["namespace"] = ns;
  meta["uid"] = current["metadata"]["uid"];
  meta["creationTimestamp"] = current["metadata"]["creationTimestamp"];
  set_rv(next, std::stoull(meta_string(current, "resourceVersion")));
  next = canonical(next);
  if (same_content(next, current)) return {std::nullopt, current};
  set_rv(next, ++current_rv_);
  it->second = next;
  record({current_rv_, "MODIFIED", ns, name, next, current});
  return {std::nullopt, next};
}

StoreResult SecretStore::remove(const std::string &ns, const std::string &name,
                                const std::string &precondition_uid,
                                const std::string &precondition_rv) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key_of(ns, name));
  if (it == objects_.end()) return {not_found(name, kind_.resource, kind_.group), Json()};
  const Json current = it->second;
  const std::string uid = meta_string(current, "uid");
  if (!precondition_uid.empty() && precondition_uid != uid) {
    return {ApiError{409, failure_status(
                              409, "Conflict",
                              "Precondition failed: UID in precondition: " +
                                  precondition_uid +
                                  ", UID in object meta: " + uid)},
            Json()};
  }
  if (!precondition_rv.empty() &&
      precondition_rv != meta_string(current, "resourceVersion")) {
    return {conflict(name, kind_.resource, kind_.group), Json()};
  }
  Json last = current;
  set_rv(last, ++current_rv_);
  objects_.erase(it);
  record({current_rv_, "DELETED", ns, name, last, current});
  return {std::nullopt, delete_success(name, uid, kind_.resource, kind_.group)};
}

StoreResult SecretStore::get(const std::string &ns,
                             const std::string &name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key_of(ns, name));
  if (it == objects_.end()) return {not_found(name, kind_.resource, kind_.group), Json()};
  return {std::nullopt, it->second};
}

std::map<SecretStore::Key, const Json *> SecretStore::state_at(uint64_t rv) const {
  std::map<Key, const Json *> state;
  for (const auto &kv : objects_) state.emplace_hint(state.end(), kv.first, &kv.second);
  for (auto e = history_.rbegin(); e != history_.rend() && e->rv > rv; ++e) {
    const Key key = key_of(e->ns, e->name);
    if (e->prev.is_null()) {
      state.erase(key);
    } else {
      state[key] = &e->prev;
    }
  }
  return state;
}

std::string SecretStore::list_key(const std::string &ns, const Key &key) {
  return ns.empty() ? key : key.substr(key.find('/') + 1);
}

StoreResult SecretStore::list(const ListQuery &q) const {
  std::unique_lock<std::mutex> lock(mu_);
  int64_t token_rv = 0;
  std::string start;
  bool continuing = !q.continue_token.empty();
  if (continuing) {
    if (!q.resource_version.empty() && q.resource_version != "0") {
      return {bad_request("specifying resource version is not allowed when "
                          "using continue"),
              Json()};
    }
    if (!decode_continue(q.continue_token, token_rv, start)) {
      return {bad_request("continue key is not valid: incorrect encoded start "
                          "resourceVersion (version meta.k8s.io/v1)"),
              Json()};
    }
  }

  // Which state to serve: the newest, or a snapshot at a resourceVersion.
  uint64_t at = current_rv_;
  bool snapshot = false;
  if (continuing && token_rv >= 0) {
    at = static_cast<uint64_t>(token_rv);
    snapshot = true;
  } else if (!continuing && !q.resource_version.empty() &&
             q.resource_version != "0") {
    uint64_t wanted = 0;
    if (!parse_rv(q.resource_version, wanted)) {
      return {bad_request("invalid resource version \"" + q.resource_version +
                          "\""),
              Json()};
    }
    if (wanted > current_rv_) {
      // The real server waits ~3 s for its cache to catch up, then 504s.
      changed_.wait_for(lock, std::chrono::seconds(3), [&] {
        return current_rv_ >= wanted || stopping_;
      });
      if (current_rv_ < wanted) {
        return {rv_too_large(wanted, current_rv_), Json()};
      }
    }
    if (q.resource_version_match == "Exact") {
      at = wanted;
      snapshot = true;
    }
  }
  if (snapshot && at < compacted_rv_) {
    if (continuing) {
      // A fresh token: continue inconsistently from the same place (rv -1).
      std::string last = start.empty() ? start : start.substr(0, start.size() - 1);
      return {list_continue_expired(encode_continue(-1, last)), Json()};
    }
    return {gone_expired("too old resource version: " + std::to_string(at) +
                         " (" + std::to_string(compacted_rv_) + ")"),
            Json()};
  }
  const std::map<Key, const Json *> state = state_at(snapshot ? at : current_rv_);

  const std::string prefix = q.ns.empty() ? "" : q.ns + "/";
  Json items = Json::array();
  std::string last_key;
  bool more = false;
  size_t remaining = 0;
  // Keys sort by namespace then name, so a continued page starts at its key.
  for (auto it = state.lower_bound(prefix + (continuing ? start : std::string()));
       it != state.end(); ++it) {
    if (!prefix.empty() && it->first.compare(0, prefix.size(), prefix) != 0) {
      break;
    }
    const std::string rel = list_key(q.ns, it->first);
    if (continuing && rel < start) continue;
    if (!q.selector.matches(*it->second)) continue;
    if (q.limit > 0 && items.size() >= q.limit) {
      more = true;
      ++remaining;
      continue;
    }
    // Items of a list carry no kind/apiVersion on a real server.
    Json item = *it->second;
    item.erase("kind");
    item.erase("apiVersion");
    items.push_back(item);
    last_key = rel;
  }

  Json list;
  list["kind"] = kind_.list_kind;
  list["apiVersion"] = kind_.api_version;
  Json meta = Json::object();
  meta["resourceVersion"] = std::to_string(at);
  if (more) {
    meta["continue"] = encode_continue(static_cast<int64_t>(at), last_key);
    if (q.selector.empty()) meta["remainingItemCount"] = remaining;
  }
  list["metadata"] = meta;
  list["items"] = items;
  return {std::nullopt, list};
}

bool SecretStore::start_watch(WatchCursor &cursor,
                              const std::string &resource_version,
                              std::vector<Json> &initial,
                              Json &expired_status) const {
  std::lock_guard<std::mutex> lock(mu_);
  cursor.epoch = epoch_;
  uint64_t from = 0;
  if (resource_version.empty() || resource_version == "0" ||
      !parse_rv(resource_version, from)) {
    // "Start at most recent": the current state as synthetic ADDED events.
    const std::string prefix = cursor.ns.empty() ? "" : cursor.ns + "/";
    for (const auto &kv : objects_) {
      if (kv.first.compare(0, prefix.size(), prefix) != 0) continue;
      if (!cursor.selector.matches(kv.second)) continue;
      initial.push_back(watch_event("ADDED", kv.second));
    }
    cursor.rv = current_rv_;
    return true;
  }
  if (from < compacted_rv_) {
    expired_status = too_old_resource_version(from, compacted_rv_);
    return false;
  }
  cursor.rv = from;
  return true;
}

void SecretStore::translate(const Event &e, const WatchCursor &cursor,
                            std::vector<Json> &out) {
  if (!cursor.ns.empty() && e.ns != cursor.ns) return;
  const bool now = e.type != "DELETED" && cursor.selector.matches(e.object);
  const bool before = !e.prev.is_null() && cursor.selector.matches(e.prev);
  if (e.type == "DELETED") {
    if (before) out.push_back(watch_event("DELETED", e.object));
  } else if (now && before) {
    out.push_back(watch_event("MODIFIED", e.object));
  } else if (now) {
    // Created, or modified into the selector: the watcher sees it appear.
    out.push_back(watch_event("ADDED", e.object));
  } else if (before) {
    // Modified out of the selector: for this watcher it is gone.
    Json gone = e.prev;
    set_rv(gone, e.rv);
    out.push_back(watch_event("DELETED", gone));
  }
}

WatchWait SecretStore::next_events(WatchCursor &cursor,
                                   std::chrono::steady_clock::time_point until,
                                   std::vector<Json> &events,
                                   Json &expired_status) const {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopping_ || cursor.epoch != epoch_) return WatchWait::kStopped;
    if (cursor.rv < compacted_rv_) {
      // History moved past this watcher (it was too slow, or compact()).
      expired_status = too_old_resource_version(cursor.rv, compacted_rv_);
      return WatchWait::kExpired;
    }
    if (current_rv_ > cursor.rv) {
      auto first = std::upper_bound(
          history_.begin(), history_.end(), cursor.rv,
          [](uint64_t rv, const Event &e) { return rv < e.rv; });
      for (auto it = first; it != history_.end(); ++it) {
        translate(*it, cursor, events);
      }
      cursor.rv = current_rv_;
      if (!events.empty()) return WatchWait::kEvents;
    }
    if (std::chrono::steady_clock::now() >= until) return WatchWait::kIdle;
    changed_.wait_until(lock, until, [&] {
      return stopping_ || cursor.epoch != epoch_ || current_rv_ > cursor.rv ||
             cursor.rv < compacted_rv_;
    });
    if (!stopping_ && cursor.epoch == epoch_ && current_rv_ <= cursor.rv &&
        cursor.rv >= compacted_rv_) {
      return WatchWait::kIdle;
    }
  }
}

std::optional<Json> SecretStore::first_match(const std::string &ns,
                                             const Selector &selector) const {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string prefix = ns.empty() ? "" : ns + "/";
  for (auto it = objects_.lower_bound(prefix); it != objects_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (selector.matches(it->second)) return it->second;
  }
  return std::nullopt;
}

uint64_t SecretStore::current_rv() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_rv_;
}

void SecretStore::compact() {
  std::lock_guard<std::mutex> lock(mu_);
  history_.clear();
  compacted_rv_ = current_rv_;
  changed_.notify_all();
}

void SecretStore::close_watches() {
  std::lock_guard<std::mutex> lock(mu_);
  ++epoch_;
  changed_.notify_all();
}

void SecretStore::shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  changed_.notify_all();
}

bool SecretStore::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

}  // namespace kube_test
