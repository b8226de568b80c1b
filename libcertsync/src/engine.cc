#include "engine.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>
#include <set>
#include <utility>

namespace certsync {

namespace {

// Live engines, for the exit handler. Deliberately leaked: a static object
// would be destroyed during exit, possibly before the handler runs.
std::mutex& registry_mutex() {
  static auto* mutex = new std::mutex;
  return *mutex;
}
std::set<Engine*>& registry() {
  static auto* engines = new std::set<Engine*>;
  return *engines;
}

void stop_all_at_exit() {
  std::set<Engine*> engines;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    engines = registry();
  }
  for (Engine* engine : engines) engine->stop();
}

// curl_global_init is not thread-safe and must run before any other curl
// call; registering the exit handler after it makes the handler run before
// the TLS library's own exit cleanup (atexit handlers run in reverse order).
void init_process_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::atexit(stop_all_at_exit);
  });
}

}  // namespace

std::variant<std::unique_ptr<Engine>, std::string> Engine::create(const ConfigMap& settings) {
  auto resolved = resolve_config(settings);
  if (auto* error = std::get_if<std::string>(&resolved)) return *error;
  init_process_once();
  return std::unique_ptr<Engine>(new Engine(std::move(std::get<EngineConfig>(resolved))));
}

Engine::Engine(EngineConfig config) : store_(config.deletion_policy, config.scopes.size()) {
  for (size_t i = 0; i < config.scopes.size(); ++i) {
    watchers_.push_back(std::make_unique<kube::Watcher>(config.connection, config.scopes[i], i, config.watch,
                                                        store_, log_));
  }
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().insert(this);
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry().erase(this);
  }
  stop();
}

void Engine::start() {
  for (auto& watcher : watchers_) watcher->start();
}

void Engine::stop() {
  for (auto& watcher : watchers_) watcher->stop();
}

std::string Engine::status_json() const {
  nlohmann::json status = store_.status();
  nlohmann::json watchers = nlohmann::json::array();
  for (const auto& watcher : watchers_) watchers.push_back(watcher->status());
  status["watchers"] = std::move(watchers);
  status["log_records_dropped"] = log_.dropped();
  return status.dump();
}

}  // namespace certsync
