// Watcher: keeps the store in step with the Secrets of one namespace.
//
// A small state machine on a thread the watcher owns, following client-go's
// reflector: LIST (paginated) and replace the store, then WATCH from the
// list's resourceVersion; a watch the server ends is resumed from the last
// resourceVersion seen; 410 Gone (as HTTP status or as an ERROR event) means
// LIST again; failures back off with jitter. Every Secret version is decoded
// and validated here, off the caller's event loop.
//
// start() and stop() may be called from any thread; stop() returns within a
// second whatever the API server does (it interrupts the transfer in flight).
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "kube/http_stream.h"
#include "kube/watch_config.h"
#include "store/store.h"
#include "util/log_queue.h"

namespace certsync::kube {

class Watcher {
 public:
  Watcher(WatchConfig config, store::Store& store, LogQueue& log);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  void start();  // idempotent
  void stop();   // idempotent; joins the thread
  nlohmann::json status() const;

 private:
  enum class WatchEnd { kResume, kRelist, kFailed, kStopped };

  void run();
  bool list();
  WatchEnd watch();
  std::optional<store::SecretUpdate> examine(nlohmann::json& object);
  bool handle_event(nlohmann::json& event, WatchEnd* end);
  HttpRequest make_request(const std::string& path_and_query);
  void back_off();
  void wait_for(std::chrono::milliseconds delay);
  void set_state(const char* state);
  void record_error(const std::string& message);
  std::string secrets_path() const;

  const WatchConfig config_;
  store::Store& store_;
  LogQueue& log_;
  HttpStream http_;
  std::thread thread_;
  std::mutex lifecycle_mutex_;  // serialises start() and stop()
  std::atomic<bool> stopping_{false};
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
  std::mt19937_64 random_;

  // Owned by the watcher thread.
  std::string resource_version_;
  int consecutive_failures_ = 0;

  // What status() reports; guarded by status_mutex_.
  mutable std::mutex status_mutex_;
  std::string state_ = "idle";
  std::string status_resource_version_;
  std::string last_error_;
  int64_t last_error_at_ = 0;
  int64_t last_sync_at_ = 0;
  uint64_t lists_ = 0;
  uint64_t watches_ = 0;
  uint64_t events_ = 0;
  uint64_t validations_ = 0;  // Secret versions validated (metadata-only updates are not)
};

}  // namespace certsync::kube
