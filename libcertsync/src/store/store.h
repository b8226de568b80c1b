// Store: the last good bundle of every watched Secret, and a generation
// counter that grows by one with every accepted change.
//
// The watcher thread writes (validation happens before, outside the lock);
// the caller's event loop reads generation(), changes_since() and status().
// Every method takes one short lock and does no I/O, so a reader never waits
// on the network. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <set>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/secret_status.h"
#include "tls/validate.h"

namespace certsync::store {

enum class DeletionPolicy {
  kKeep,    // a deleted Secret keeps serving its last good bundle (marked deleted in status)
  kRemove,  // a deleted Secret stops being served
};

// The outcome of looking at one version of one Secret.
struct SecretUpdate {
  std::string id;                 // "namespace/name"
  std::string uid;                // metadata.uid: tells a re-created Secret from the old one
  std::string type;               // the Secret's type: which type's scope it belongs to
  std::string resource_version;
  // When the watcher received this version (Unix milliseconds): the start of
  // the event-to-served latency the plugin measures and logs.
  int64_t observed_at_ms = 0;
  std::string data_digest;        // see kube::Secret::data_digest
  std::optional<tls::ValidBundle> accepted;
  std::optional<tls::Refusal> refused;
  bool unchanged = false;  // same data as last seen: nothing to validate again
  // None set: the Secret holds no TLS data (any more); it is not served.
};


struct ChangeSet {
  uint64_t generation = 0;
  bool full = false;
  std::vector<SharedChange> changes;
};

// What changed in the per-Secret status after a status version.
struct StatusDelta {
  uint64_t version = 0;  // pass it to the next status_since()
  bool full = false;     // every Secret is in `secrets`; drop what you hold
  // id, its status as of `version`: render it with status_json(id, status, now).
  std::vector<std::pair<std::string, SecretStatus>> secrets;
  std::vector<std::string> removed;  // ids no longer known
  int64_t now = 0;                   // the store's clock when the delta was taken
};

class Store {
 public:
  // scope_count: how many watch scopes feed the store; it counts as synced
  // (and its generation leaves 0) once each of them has listed once.
  explicit Store(DeletionPolicy policy, size_t scope_count = 1, size_t max_tombstones = 1024)
      : policy_(policy), scope_count_(scope_count), max_tombstones_(max_tombstones) {}

  // True when `data_digest` is what was last seen for `id`: a metadata-only
  // update that needs no new validation.
  bool seen(const std::string& id, const std::string& data_digest) const;

  // Applies updates from a WATCH event.
  void apply(std::vector<SecretUpdate> updates);
  // Applies a complete LIST of one scope: Secrets of that scope (in_scope,
  // asked with each stored Secret's id and last seen type) absent from it
  // count as deleted; those of other scopes, e.g. the same namespace's
  // Secrets of another type, stay. The whole list becomes one generation, so
  // no reader sees half of it.
  using InScope = std::function<bool(const std::string& id, const std::string& type)>;
  void replace_all(size_t scope_index, const InScope& in_scope, std::vector<SecretUpdate> updates);
  void replace_all(std::vector<SecretUpdate> updates) {  // the only scope there is
    replace_all(0, [](const std::string&, const std::string&) { return true; }, std::move(updates));
  }
  // A DELETED event (or a Secret that lost its TLS data). With a type, a
  // stored Secret of another type is left alone: it was deleted and created
  // again with that type, and the other type's watch, which need not be in
  // step with this one, has already delivered it.
  void remove(const std::string& id, const std::string& resource_version, const std::string& type = "");

  // 0 until every scope has listed once: a reader never mistakes a partial
  // first sync for the whole truth. Reading also promotes deferred bundles
  // whose time has come (notBefore minus the clock skew), so a certificate
  // issued ahead of time switches on at the second it becomes valid.
  //
  // None of the readers waits for a writer: while one holds the lock,
  // generation() answers the last value it published, changes_since()
  // answers an empty delta (generation `generation`, so the caller asks
  // again), status_since() an empty delta at the version given.
  uint64_t generation();
  bool synced() const;
  ChangeSet changes_since(uint64_t generation);
  // Everything known per Secret, without key material. Each Secret has one
  // `state`, the first that holds of: kept_after_delete (deleted from the
  // API, its last good bundle still served), refused (the latest version was
  // refused; `served`, if present, is the last good one), expired (the served
  // leaf is past notAfter), deferred (a newer bundle waits for its notBefore),
  // serving.
  nlohmann::json status();
  // The Secrets whose status changed after `version` (0: all of them), as
  // snapshots that share what the store holds: a reader copies a few
  // strings and pointers per Secret and renders the JSON of each when it
  // reads it (status_json), so following the status costs what changed, and
  // no text is kept per Secret. A version older than the removals kept
  // answers with a full delta.
  StatusDelta status_since(uint64_t version);

  // The clock, in Unix seconds; tests replace it.
  void set_clock(std::function<int64_t()> clock) { clock_ = std::move(clock); }
  // Called (outside the lock, on the writer's thread) after a write raised
  // the generation: how the engine wakes the workers at once. Set it before
  // any writer runs.
  void set_on_change(std::function<void()> on_change) { on_change_ = std::move(on_change); }

 private:
  // kube::Secret::data_digest, 32 bytes held in the entry itself (the hex
  // text would take 80 more on the heap); `set` is false when none is known.
  struct DataDigest {
    std::array<unsigned char, 32> bytes{};
    bool set = false;
    bool operator==(const DataDigest& other) const { return set == other.set && bytes == other.bytes; }
  };
  static DataDigest digest_of(const std::string& text);

  // Per Secret. Rarely used parts (a deferred bundle, refusals) are behind
  // pointers, allocated only when present: with 50,000 Secrets every byte
  // of an entry counts.
  struct Entry : SecretStatus {
    DataDigest data_digest;
    uint64_t status_version = 0;  // when its status last changed (status_version_)
    bool expiry_noted = false;    // its state already says the served leaf expired
  };

  int64_t now_locked() const;
  void refuse_locked(Entry& entry, tls::Refusal refusal, const std::string& resource_version);
  // Makes `bundle` the served one, as of `generation`.
  void serve_locked(const std::string& id, Entry& entry, tls::ValidBundle bundle, uint64_t generation,
                    int64_t observed_at_ms);
  void clear_refusal_locked(Entry& entry);
  // One shared copy of each Secret type's name.
  std::shared_ptr<const std::string> type_locked(const std::string& type);

  // All three run with mutex_ held; they return true when what is served changed.
  bool apply_locked(SecretUpdate& update, uint64_t next_generation);
  bool remove_locked(const std::string& id, const std::string& resource_version,
                     uint64_t next_generation);
  void add_tombstone_locked(const std::string& id, uint64_t generation);
  void note_served_locked(uint64_t generation, const std::string& id);
  void promote_due_locked();
  // The status of `entry` changed: it gets a new status version.
  void touch_locked(const std::string& id, Entry& entry);
  // Served leaves that expired since the last look change their state.
  void note_expiries_locked();
  // Copies the generation, synced and the next due time where readers find
  // them without the lock; every writer calls it before unlocking.
  void publish_visible_locked();

  const DeletionPolicy policy_;
  const size_t scope_count_;
  const size_t max_tombstones_;
  std::set<size_t> listed_scopes_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, uint64_t> tombstones_;  // id -> generation it stopped being served
  uint64_t generation_ = 0;
  // What generation() answers without the lock: a writer applying a list
  // of 50,000 Secrets holds the lock for a while, and the caller's event
  // loop must never wait for it (see generation()).
  std::atomic<uint64_t> visible_generation_{0};
  std::atomic<bool> visible_synced_{false};
  std::atomic<int64_t> visible_next_due_{INT64_MAX};
  uint64_t delta_floor_ = 0;  // changes_since(n < floor) must answer with a full set
  // Generation -> the ids served at it, for the last kServedLogMax ids:
  // changes_since() reads what changed instead of walking every entry.
  // Below served_log_floor_ it walks (a relist's generation never fits).
  static constexpr size_t kServedLogMax = 4096;
  std::map<uint64_t, std::vector<std::string>> served_log_;
  size_t served_log_ids_ = 0;
  uint64_t served_log_floor_ = 0;
  uint64_t status_version_ = 0;
  // The earliest moment a deferred bundle falls due and a served leaf
  // expires: generation() and status_since() run on every tick of the
  // caller and must not walk 50,000 entries to find that nothing is due.
  int64_t next_due_ = INT64_MAX;
  int64_t next_expiry_ = INT64_MAX;
  // Every type seen, kept for good: a handful (the types the scopes watch).
  std::map<std::string, std::shared_ptr<const std::string>> types_;
  std::map<std::string, uint64_t> status_tombstones_;  // id -> status version it was forgotten at
  // Status version -> the id (the key in entries_) whose status last
  // changed at that version: status_since() reads what changed, not every entry.
  std::map<uint64_t, const std::string*> status_order_;
  uint64_t status_floor_ = 0;  // status_since(n < floor) must answer with a full delta
  bool synced_ = false;
  std::function<int64_t()> clock_;
  std::function<void()> on_change_;
};

}  // namespace certsync::store
