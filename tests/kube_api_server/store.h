// The objects of one resource (Secrets; the Certificates are a second
// store of the same class), the global resourceVersion counter, the bounded event history
// and the wake-up for watchers: the server's single source of truth.
//
// Thread-safety: every public method is safe to call from any thread; one
// mutex guards all state, and watchers block on one condition variable that
// every write (and shutdown) signals. Objects are copied in and out, never
// shared.
//
// resourceVersion model (like etcd behind a real kube-apiserver): one counter
// for the whole store, incremented by every write; each object carries the
// value of its last write; a LIST reports the counter at the time it was
// served, so it is >= every item's. The history keeps the last
// `history_limit` events; watching from before it gives "410 Expired".
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "json.h"
#include "selectors.h"
#include "status_body.h"

namespace kube_test {

// What one store holds: Secrets (the default) or cert-manager Certificates.
// The list's kind and apiVersion, what "not found" and friends call the
// resource, and how an object is put in canonical form before it is stored.
struct ObjectKind {
  std::string kind = "Secret";
  std::string list_kind = "SecretList";
  std::string api_version = "v1";
  std::string resource = "secrets";  // Status messages: `secrets "x" not found`
  std::string group;                 // Status details.group; empty: the core group
  std::function<Json(const Json &)> canonical;  // null: canonical_secret
};

// The kind of a store of Secrets.
ObjectKind secret_kind();

struct StoreResult {
  std::optional<ApiError> error;
  Json body;  // the object (or, for remove, the Success Status)
};

struct ListQuery {
  std::string ns;  // empty: all namespaces
  Selector selector;
  size_t limit = 0;  // 0: no paging
  std::string continue_token;
  std::string resource_version;        // "", "0" or a number
  std::string resource_version_match;  // "", NotOlderThan, Exact
};

// Where one watch stream stands. Owned by the stream's thread.
struct WatchCursor {
  std::string ns;  // empty: all namespaces
  Selector selector;
  uint64_t rv = 0;     // every event with a resourceVersion <= rv was handled
  uint64_t epoch = 0;  // close_watches() bumps the store's epoch
};

enum class WatchWait {
  kEvents,   // `events` has at least one event to send
  kIdle,     // `until` passed with nothing to send
  kExpired,  // the cursor fell behind the history: send 410 and end
  kStopped,  // shutdown or close_watches(): end the stream normally
};

class SecretStore {
 public:
  explicit SecretStore(size_t history_limit, uint64_t initial_rv = 100,
                       ObjectKind kind = secret_kind());

  const ObjectKind &kind() const { return kind_; }
  // `object` in the form this store keeps (canonical_secret for Secrets).
  Json canonical(const Json &object) const;

  // Mutator for update(): gets the stored object, fills `next` or refuses.
  // Runs under the store lock, so it must be quick and must not call back.
  using Mutator =
      std::function<std::optional<ApiError>(const Json &current, Json &next)>;

  // `secret` is decoded and validated; the store adds uid, resourceVersion and
  // creationTimestamp. 409 AlreadyExists if the name is taken.
  StoreResult create(Json secret);
  // 404 if absent. A result equal to the stored object (bar bookkeeping) is a
  // no-op: same resourceVersion, no event, as on a real server.
  StoreResult update(const std::string &ns, const std::string &name,
                     const Mutator &mutate);
  // Optional preconditions from DeleteOptions; mismatch gives 409.
  StoreResult remove(const std::string &ns, const std::string &name,
                     const std::string &precondition_uid = "",
                     const std::string &precondition_rv = "");
  StoreResult get(const std::string &ns, const std::string &name) const;
  // A SecretList, or an error (400 bad continue, 410 expired, 504 too large).
  StoreResult list(const ListQuery &query) const;

  // Positions `cursor` for a new watch. rv "" or "0": `initial` gets a
  // synthetic ADDED event per matching object, then live events follow.
  // Returns false when the requested resourceVersion is older than the
  // history; `expired_status` is then the Status for the ERROR event.
  bool start_watch(WatchCursor &cursor, const std::string &resource_version,
                   std::vector<Json> &initial, Json &expired_status) const;
  // Blocks until there are events past the cursor, `until`, or a stop.
  WatchWait next_events(WatchCursor &cursor,
                        std::chrono::steady_clock::time_point until,
                        std::vector<Json> &events, Json &expired_status) const;

  // The first stored object (in key order) in `ns` (all namespaces when
  // empty) that `selector` matches: what an injected watch event shows.
  std::optional<Json> first_match(const std::string &ns,
                                  const Selector &selector) const;

  uint64_t current_rv() const;
  // Test control: forget the whole history (every older watch gets 410), end
  // every open watch normally, and stop everything for shutdown.
  void compact();
  void close_watches();
  void shutdown();
  bool stopping() const;

  // --state (store_persistence.cc): everything a restart must keep, as etcd
  // keeps it behind a real kube-apiserver: the objects, the counter and the
  // event history. restore() is for a store no request has reached yet;
  // without `keep_history` every older resourceVersion gets 410 afterwards
  // (a server back with its history lost). An error names what was wrong.
  Json save() const;
  std::optional<std::string> restore(const Json &saved, bool keep_history);

 private:
  struct Event {
    uint64_t rv;
    std::string type;  // ADDED, MODIFIED, DELETED
    std::string ns;
    std::string name;
    Json object;  // state after the write (DELETED: last state, new rv)
    Json prev;    // state before (null for ADDED): lets a LIST rewind
  };
  // "namespace/name": sorts like the etcd keys a real server pages over.
  using Key = std::string;
  static Key key_of(const std::string &ns, const std::string &name) {
    return ns + "/" + name;
  }

  void record(Event event);  // caller holds mu_
  // The objects as they were at `rv` (caller holds mu_ and checked that the
  // history reaches back that far).
  // The objects as they were at `rv`, pointing into objects_ and the
  // history (valid while mu_ is held): a page of a list then costs the page,
  // not a copy of every Secret.
  std::map<Key, const Json *> state_at(uint64_t rv) const;
  // The key a continue token carries: the name for a namespaced list,
  // "namespace/name" across all namespaces.
  static std::string list_key(const std::string &ns, const Key &key);
  // The watch event(s) one history event turns into for this cursor.
  static void translate(const Event &e, const WatchCursor &cursor,
                        std::vector<Json> &out);

  const size_t history_limit_;
  const ObjectKind kind_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::map<Key, Json> objects_;
  std::deque<Event> history_;
  uint64_t current_rv_;
  uint64_t compacted_rv_;  // events with rv <= this are gone from history_
  uint64_t epoch_ = 0;
  bool stopping_ = false;
};

}  // namespace kube_test
