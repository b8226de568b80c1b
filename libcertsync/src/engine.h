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
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "certmanager/certificate_book.h"
#include "engine_config.h"
#include "kube/watcher.h"
#include "store/store.h"
#include "util/log_queue.h"
#include "util/wake_server.h"

namespace certsync {

// One process, one watcher per configuration: nginx runs an http and a
// stream Lua VM in every worker, both loading this one library. acquire()
// hands both the same Engine for the same settings, and its watchers run
// while at least one holder has started it.
class Engine {
 public:
  // The process's engine for these settings, created on first use. Returns an
  // error naming the field or file when the configuration is unusable.
  static std::variant<std::shared_ptr<Engine>, std::string> acquire(const ConfigMap& settings);
  ~Engine();

  void start();  // one more holder wants the watchers running; call after fork
  void stop();   // one holder less; the watchers stop (within a second) with the last
  void stop_now();  // process exit: stop whatever the holders think

  store::Store& store() { return store_; }
  LogQueue& log() { return log_; }
  // Everything, every Secret included (the CLI's view).
  std::string status_json();
  // The node-wide part alone: generation, synced, watchers, notify; the
  // Secrets come through store().status_since().
  std::string status_summary_json();
  // The cert-manager Certificates as JSON, when they changed since version
  // `known` (null otherwise); see CertificateBook::certificates_json.
  std::shared_ptr<const std::string> certificates_json(uint64_t known, uint64_t* version) {
    return certificates_.certificates_json(known, version);
  }
  // Wakes every worker waiting on the notify socket (no-op without one).
  void notify() { wake_.notify(); }

 private:
  void add_node_status(nlohmann::json& status);
  nlohmann::json cert_manager_status() const;
  explicit Engine(EngineConfig config);

  LogQueue log_;
  store::Store store_;
  const std::string notify_socket_;
  const bool insecure_skip_tls_verify_;
  const std::string server_;
  WakeServer wake_;
  std::vector<std::unique_ptr<kube::Watcher>> watchers_;
  // cert-manager: one Certificate watch per namespace watched (or one for
  // all), none with cert_manager = off; kept apart from watchers_, whose
  // health the node's readiness depends on: these never affect serving.
  const bool cert_manager_;
  certmanager::CertificateBook certificates_;
  std::vector<std::unique_ptr<kube::Watcher>> certificate_watchers_;
  std::mutex start_mutex_;
  int starts_ = 0;
};

}  // namespace certsync
