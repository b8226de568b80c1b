// Engine: one certsync instance, what a certsync_t handle points to.
// Owns the store, the log queue and one watcher per scope, built from the
// resolved configuration (engine_config.h). It holds no logic of the C ABI
// and knows nothing of Lua.
//
// Engines still running when the process exits are stopped by the library
// itself (an atexit handler): nginx workers that get SIGTERM simply exit,
// with no chance for Lua to stop anything, and a joinable std::thread
// destroyed at exit would abort the process.
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "engine_config.h"
#include "kube/watcher.h"
#include "store/store.h"
#include "util/log_queue.h"

namespace certsync {

class Engine {
 public:
  // Returns an error naming the field or file when the configuration is unusable.
  static std::variant<std::unique_ptr<Engine>, std::string> create(const ConfigMap& config);
  ~Engine();

  void start();  // idempotent; call after fork
  void stop();   // idempotent; returns within a second

  store::Store& store() { return store_; }
  LogQueue& log() { return log_; }
  std::string status_json() const;

 private:
  explicit Engine(EngineConfig config);

  LogQueue log_;
  store::Store store_;
  std::vector<std::unique_ptr<kube::Watcher>> watchers_;
};

}  // namespace certsync
