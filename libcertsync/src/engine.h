// Engine: one certsync instance, what a certsync_t handle points to.
// Owns the store, the log queue and the watcher, and builds them from the
// key/value configuration of the C ABI. It holds no logic of the C ABI and
// knows nothing of Lua.
//
// Engines still running when the process exits are stopped by the library
// itself (an atexit handler): nginx workers that get SIGTERM simply exit,
// with no chance for Lua to stop anything, and a joinable std::thread
// destroyed at exit would abort the process.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <variant>

#include "kube/watcher.h"
#include "store/store.h"
#include "util/log_queue.h"

namespace certsync {

using ConfigMap = std::map<std::string, std::string>;

// Checks one configuration key and value; returns an error naming the key.
std::optional<std::string> check_config_entry(const std::string& key, const std::string& value);

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
  Engine(kube::WatchConfig watch_config, store::DeletionPolicy policy);

  LogQueue log_;
  store::Store store_;
  kube::Watcher watcher_;
};

}  // namespace certsync
