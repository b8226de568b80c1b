// Watcher: keeps what one WatchedKind holds in step with the API server:
// the Secrets of one scope (secret_kind.h), or the cert-manager
// Certificates of a namespace (certmanager/certificate_kind.h).
//
// A small state machine on a thread the watcher owns, following client-go's
// reflector (the transitions are in reflector_policy.h): LIST (paginated)
// and hand the whole list to the kind at once (for Secrets: the scope's part
// of the store in one generation), then WATCH from the list's
// resourceVersion with bookmarks; resume a watch the server ends; LIST again
// on 410; back off with jitter on failures. An optional kind answered with
// 404 or 403 is switched off ("unavailable") and listed again now and then.
// Every object is decoded (and a Secret validated) here, off the caller's
// event loop.
//
// start() and stop() may be called from any thread; stop() returns within a
// second whatever the API server does (it interrupts the transfer in flight).
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "kube/api_status.h"
#include "kube/backoff.h"
#include "kube/connection_config.h"
#include "kube/http_stream.h"
#include "kube/reflector_policy.h"
#include "kube/scope.h"
#include "kube/watch_options.h"
#include "kube/watched_kind.h"
#include "store/store.h"
#include "util/log_queue.h"

namespace certsync::kube {

class Watcher {
 public:
  // The Secrets of `scope`, into `store` (as its scope `scope_index`).
  Watcher(std::shared_ptr<const ConnectionConfig> connection, Scope scope, size_t scope_index,
          WatchOptions options, store::Store& store, LogQueue& log);
  Watcher(std::shared_ptr<const ConnectionConfig> connection, std::unique_ptr<WatchedKind> kind,
          WatchOptions options, LogQueue& log);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  void start();  // idempotent while running; starts again after stop()
  void stop();   // idempotent; joins the thread
  nlohmann::json status() const;

 private:
  void run();
  bool listed_once() const;
  AttemptOutcome relist_at_background_priority();
  AttemptOutcome list();
  AttemptOutcome watch();
  // Returns false when the stream must be dropped; fills `outcome` then.
  bool handle_event(nlohmann::json& event, AttemptOutcome* outcome);
  HttpRequest make_request(const std::string& path_and_query);
  std::string path(const std::string& extra_query) const;
  void note_failure(const char* verb, const ApiStatus& status);
  // An optional kind answered 404 or 403: says so (once per kind) and
  // marks the outcome; false when the status means something else.
  bool note_unavailable(const char* verb, const ApiStatus& status, AttemptOutcome* outcome);
  // "list secrets in namespace default, type kubernetes.io/tls"
  std::string what(const char* verb) const;
  void wait_for(std::chrono::milliseconds delay);
  void set_state(const char* state);
  // kind: what failed, as metrics count it: the HTTP status of a refused
  // request ("403", "429", ...), "transport", "decode" or "too_large".
  void record_error(const std::string& kind, const std::string& message);
  // The scope is known to be in step with the API server now: a LIST
  // completed, a watch opened (event = false) or an event arrived.
  void note_sync(bool event = true);

  const std::shared_ptr<const ConnectionConfig> connection_;
  const std::unique_ptr<WatchedKind> kind_;
  const WatchOptions options_;
  LogQueue& log_;
  HttpStream http_;
  std::thread thread_;
  std::mutex lifecycle_mutex_;  // serialises start() and stop()
  std::atomic<bool> stopping_{false};
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;

  // Owned by the watcher thread.
  std::string resource_version_;
  Backoff backoff_;
  std::optional<std::chrono::milliseconds> retry_after_;  // from the last failure
  std::mt19937_64 random_;

  // What status() reports; guarded by status_mutex_.
  mutable std::mutex status_mutex_;
  std::string state_ = "idle";
  std::string status_resource_version_;
  std::string last_error_;
  int64_t last_error_at_ = 0;
  int64_t last_sync_at_ = 0;   // last LIST completed, event or bookmark received (Unix s)
  int64_t last_event_at_ = 0;  // last watch event of any type (Unix s)
  int64_t down_since_ = 0;     // not watching since (Unix s); 0 while a watch stream is open
  int64_t backoff_until_ = 0;  // while backing off: when the next attempt starts (Unix s)
  std::map<std::string, uint64_t> errors_;  // kind -> count, see record_error
  uint64_t lists_completed_ = 0;
  uint64_t lists_ = 0;
  uint64_t watches_ = 0;
  uint64_t events_ = 0;
  std::string unavailable_;  // an optional kind switched off: why ("" while available)
  bool was_unavailable_ = false;  // owned by the watcher thread
};

}  // namespace certsync::kube
