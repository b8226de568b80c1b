#include "engine.h"

#include "certmanager/certificate_kind.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>
#include <map>
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
  for (Engine* engine : engines) engine->stop_now();
}

// Engines by canonical settings, so that two Lua VMs of one process share one.
std::map<std::string, std::weak_ptr<Engine>>& shared_engines() {
  static auto* engines = new std::map<std::string, std::weak_ptr<Engine>>;
  return *engines;
}

std::string canonical(const ConfigMap& settings) {
  std::string key;
  for (const auto& [name, value] : settings) key += name + '\0' + value + '\0';
  return key;
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

std::variant<std::shared_ptr<Engine>, std::string> Engine::acquire(const ConfigMap& settings) {
  auto resolved = resolve_config(settings);
  if (auto* error = std::get_if<std::string>(&resolved)) return *error;
  init_process_once();
  static std::mutex mutex;  // the function-local statics above are leaked on purpose; this one is trivial
  std::lock_guard<std::mutex> lock(mutex);
  auto& engines = shared_engines();
  const std::string key = canonical(settings);
  if (auto existing = engines[key].lock()) return existing;
  std::shared_ptr<Engine> engine(new Engine(std::move(std::get<EngineConfig>(resolved))));
  engines[key] = engine;
  return engine;
}

Engine::Engine(EngineConfig config)
    : store_(config.deletion_policy, config.scopes.size()),
      notify_socket_(config.notify_socket),
      insecure_skip_tls_verify_(config.connection->insecure_skip_tls_verify),
      server_(config.connection->server),
      cert_manager_(config.cert_manager),
      certificates_(config.cert_manager ? certificate_namespaces(config.scopes).size() : 0) {
  // The owner's own worker waits on the socket too: an accepted change wakes
  // it to publish, and its publication (certsync_notify) wakes the others.
  store_.set_on_change([this] { wake_.notify(); });
  for (size_t i = 0; i < config.scopes.size(); ++i) {
    watchers_.push_back(std::make_unique<kube::Watcher>(config.connection, config.scopes[i], i, config.watch,
                                                        store_, log_));
  }
  if (cert_manager_) {
    const auto namespaces = certificate_namespaces(config.scopes);
    for (size_t i = 0; i < namespaces.size(); ++i) {
      certificate_watchers_.push_back(std::make_unique<kube::Watcher>(
          config.connection, std::make_unique<certmanager::CertificateKind>(namespaces[i], i, certificates_, log_),
          config.watch, log_));
    }
  }
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().insert(this);
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry().erase(this);
  }
  stop_now();
}

void Engine::start() {
  std::lock_guard<std::mutex> lock(start_mutex_);
  if (starts_++ != 0) return;
  if (insecure_skip_tls_verify_) {
    // Said on every start, so it never scrolls out of sight for good.
    log_.push(LogLevel::kWarn, "insecure_skip_tls_verify is on: the certificate of " + server_ +
                                   " is not verified, so whoever can intercept the connection can read the "
                                   "token and serve any certificate; set ca_file instead");
  }
  if (!notify_socket_.empty()) {
    // Without the socket the workers still converge at their next poll.
    const std::string error = wake_.start(notify_socket_);
    if (!error.empty()) log_.push(LogLevel::kWarn, error + "; workers fall back to polling");
  }
  for (auto& watcher : watchers_) watcher->start();
  for (auto& watcher : certificate_watchers_) watcher->start();
}

void Engine::stop() {
  std::lock_guard<std::mutex> lock(start_mutex_);
  if (starts_ > 0 && --starts_ == 0) {
    for (auto& watcher : watchers_) watcher->stop();
    for (auto& watcher : certificate_watchers_) watcher->stop();
    wake_.stop();
  }
}

void Engine::stop_now() {
  std::lock_guard<std::mutex> lock(start_mutex_);
  starts_ = 0;
  for (auto& watcher : watchers_) watcher->stop();
  for (auto& watcher : certificate_watchers_) watcher->stop();
  wake_.stop();
}

void Engine::add_node_status(nlohmann::json& status) {
  nlohmann::json watchers = nlohmann::json::array();
  for (const auto& watcher : watchers_) watchers.push_back(watcher->status());
  status["watchers"] = std::move(watchers);
  status["log_records_dropped"] = log_.dropped();
  status["cert_manager"] = cert_manager_status();
  // How many workers wait on the notify socket: all of them, normally.
  if (!notify_socket_.empty())
    status["notify"] = {{"socket", notify_socket_}, {"connections", wake_.connections()}};
}

nlohmann::json Engine::cert_manager_status() const {
  if (!cert_manager_) {
    return {{"enabled", false}, {"watching", false}, {"reason", "turned off (cert_manager = off)"},
            {"certificates", 0}, {"version", 0}, {"scopes", nlohmann::json::array()}};
  }
  nlohmann::json out = certificates_.summary();
  out["enabled"] = true;
  out["scopes"] = nlohmann::json::array();
  for (const auto& watcher : certificate_watchers_) out["scopes"].push_back(watcher->status());
  return out;
}

std::string Engine::status_json() {
  nlohmann::json status = store_.status();
  add_node_status(status);
  uint64_t version = 0;
  auto certificates = certificates_.certificates_json(0, &version);
  status["certificates"] = certificates ? nlohmann::json::parse(*certificates) : nlohmann::json::array();
  return status.dump();
}

std::string Engine::status_summary_json() {
  nlohmann::json status = {{"generation", store_.generation()}, {"synced", store_.synced()}};
  add_node_status(status);
  return status.dump();
}

}  // namespace certsync
