#include "engine.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>
#include <set>

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

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = {"server", "ca_file", "token_file", "namespace",
                                             "deletion_policy", "insecure_skip_tls_verify",
                                             "max_event_bytes"};
  return keys;
}

}  // namespace

std::optional<std::string> check_config_entry(const std::string& key, const std::string& value) {
  if (known_keys().count(key) == 0) return "unknown configuration key \"" + key + "\"";
  if (key == "deletion_policy" && value != "keep" && value != "remove")
    return "deletion_policy must be \"keep\" or \"remove\" (got \"" + value + "\")";
  if (key == "insecure_skip_tls_verify" && value != "true" && value != "false")
    return "insecure_skip_tls_verify must be \"true\" or \"false\" (got \"" + value + "\")";
  if (key == "max_event_bytes") {
    char* end = nullptr;
    const unsigned long long bytes = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || bytes < 1024 || bytes > (64ull << 20))
      return "max_event_bytes must be a number of bytes from 1024 to 67108864 (got \"" + value + "\")";
  }
  return std::nullopt;
}

std::variant<std::unique_ptr<Engine>, std::string> Engine::create(const ConfigMap& config) {
  for (const auto& [key, value] : config) {
    if (auto error = check_config_entry(key, value)) return *error;
  }
  auto get = [&](const char* key, const char* fallback) {
    auto it = config.find(key);
    return it == config.end() ? std::string(fallback) : it->second;
  };
  kube::WatchConfig watch;
  watch.server = get("server", "");
  while (!watch.server.empty() && watch.server.back() == '/') watch.server.pop_back();
  watch.ca_file = get("ca_file", "");
  watch.token_file = get("token_file", "");
  watch.namespace_name = get("namespace", "");
  watch.insecure_skip_tls_verify = get("insecure_skip_tls_verify", "false") == "true";
  if (config.count("max_event_bytes")) watch.max_event_bytes = std::stoull(config.at("max_event_bytes"));
  if (auto error = kube::check_watch_config(watch)) return *error;
  const auto policy = get("deletion_policy", "keep") == "remove" ? store::DeletionPolicy::kRemove
                                                                 : store::DeletionPolicy::kKeep;
  init_process_once();
  return std::unique_ptr<Engine>(new Engine(std::move(watch), policy));
}

Engine::Engine(kube::WatchConfig watch_config, store::DeletionPolicy policy)
    : store_(policy), watcher_(std::move(watch_config), store_, log_) {
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

void Engine::start() { watcher_.start(); }

void Engine::stop() { watcher_.stop(); }

std::string Engine::status_json() const {
  nlohmann::json status = store_.status();
  status["watcher"] = watcher_.status();
  status["log_records_dropped"] = log_.dropped();
  return status.dump();
}

}  // namespace certsync
