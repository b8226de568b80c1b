#include "kube/watcher.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "kube/event_framer.h"
#include "kube/secret.h"
#include "tls/validate.h"

namespace certsync::kube {

namespace {

constexpr size_t kMaxErrorBodyBytes = 64 * 1024;
constexpr auto kBackoffBase = std::chrono::milliseconds(800);
constexpr auto kBackoffCap = std::chrono::milliseconds(30000);

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

// Percent-encodes a query parameter value (resourceVersion and continue tokens are opaque).
std::string query_escape(const std::string& value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The message of a Kubernetes Status body, or the HTTP status when there is none.
std::string describe_failure(long status, const std::string& body) {
  std::string message = "HTTP " + std::to_string(status);
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.value("kind", "") == "Status") {
    const std::string reason = json.value("reason", "");
    const std::string text = json.value("message", "");
    if (!reason.empty()) message += " " + reason;
    if (!text.empty()) message += ": " + text;
  }
  return message;
}

std::string resource_version_of(const nlohmann::json& object) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto rv = metadata->find("resourceVersion");
  return rv != metadata->end() && rv->is_string() ? rv->get<std::string>() : "";
}

}  // namespace

Watcher::Watcher(WatchConfig config, store::Store& store, LogQueue& log)
    : config_(std::move(config)), store_(store), log_(log), random_(std::random_device{}()) {}

Watcher::~Watcher() { stop(); }

void Watcher::start() {
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  if (thread_.joinable() || stopping_.load()) return;
  thread_ = std::thread([this] { run(); });
}

void Watcher::stop() {
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  stopping_.store(true);
  http_.interrupt();
  {
    std::lock_guard<std::mutex> wait_lock(wait_mutex_);
    wait_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  set_state("stopped");
}

std::string Watcher::secrets_path() const {
  return "/api/v1/namespaces/" + query_escape(config_.namespace_name) + "/secrets";
}

HttpRequest Watcher::make_request(const std::string& path_and_query) {
  HttpRequest request;
  request.url = config_.server + path_and_query;
  request.ca_file = config_.ca_file;
  request.insecure_skip_tls_verify = config_.insecure_skip_tls_verify;
  if (!config_.token_file.empty()) {
    std::string error;
    // Read on every request: projected service-account tokens rotate.
    if (auto token = read_token_file(config_.token_file, &error)) {
      request.bearer_token = std::move(*token);
    } else {
      record_error("token_file " + config_.token_file + " " + error);
    }
  }
  return request;
}

void Watcher::run() {
  bool need_list = true;
  while (!stopping_.load()) {
    if (need_list) {
      set_state("listing");
      if (!list()) {
        back_off();
        continue;
      }
      need_list = false;
      consecutive_failures_ = 0;
    }
    set_state("watching");
    switch (watch()) {
      case WatchEnd::kResume:
        consecutive_failures_ = 0;
        break;
      case WatchEnd::kRelist:
        need_list = true;
        break;
      case WatchEnd::kFailed:
        back_off();
        break;
      case WatchEnd::kStopped:
        return;
    }
  }
}

bool Watcher::list() {
  std::vector<store::SecretUpdate> updates;
  std::string continue_token;
  std::string list_resource_version;
  do {
    std::string query = secrets_path() + "?limit=500";
    if (!continue_token.empty()) query += "&continue=" + query_escape(continue_token);
    std::string body;
    bool too_large = false;
    HttpResponse response = http_.get(make_request(query), [&](long, std::string_view bytes) {
      if (body.size() + bytes.size() > config_.max_list_bytes) {
        too_large = true;
        return false;
      }
      body.append(bytes);
      return true;
    });
    {
      std::lock_guard<std::mutex> lock(status_mutex_);
      ++lists_;
    }
    if (response.interrupted) return false;
    if (too_large) {
      record_error("LIST " + secrets_path() + ": the response exceeds " +
                   std::to_string(config_.max_list_bytes) + " bytes");
      return false;
    }
    if (!response.transport_error.empty()) {
      record_error("LIST " + secrets_path() + ": " + response.transport_error);
      return false;
    }
    if (response.status != 200) {
      record_error("LIST " + secrets_path() + ": " + describe_failure(response.status, body));
      return false;
    }
    auto json = nlohmann::json::parse(body, nullptr, false);
    OPENSSL_cleanse(body.data(), body.size());  // it holds every Secret of the page
    if (!json.is_object() || !json.contains("items") || !json["items"].is_array()) {
      record_error("LIST " + secrets_path() + ": the response is not a SecretList");
      return false;
    }
    for (auto& item : json["items"]) {
      if (auto update = examine(item)) updates.push_back(std::move(*update));
    }
    const auto& metadata = json.value("metadata", nlohmann::json::object());
    // Watch from the list's resourceVersion, never an item's: items may be older.
    list_resource_version = metadata.value("resourceVersion", "");
    continue_token = metadata.value("continue", "");
  } while (!continue_token.empty() && !stopping_.load());
  if (stopping_.load()) return false;

  store_.replace_all(std::move(updates));
  resource_version_ = list_resource_version;
  {
    std::lock_guard<std::mutex> lock(status_mutex_);
    status_resource_version_ = resource_version_;
    last_sync_at_ = unix_now();
  }
  log_.push(LogLevel::kInfo, "listed Secrets in namespace " + config_.namespace_name +
                                 " at resourceVersion " + resource_version_);
  return true;
}

Watcher::WatchEnd Watcher::watch() {
  std::uniform_int_distribution<int> spread(300, 599);
  const int timeout_seconds = spread(random_);
  const std::string query = secrets_path() + "?watch=true&allowWatchBookmarks=true&resourceVersion=" +
                            query_escape(resource_version_) +
                            "&timeoutSeconds=" + std::to_string(timeout_seconds);
  HttpRequest request = make_request(query);
  // A hard deadline just past the server's own, and an idle deadline well above
  // the bookmark cadence, so a dead connection is noticed.
  request.total_timeout_ms = (timeout_seconds + 30) * 1000L;
  request.idle_timeout_s = 180;

  EventFramer framer(config_.max_event_bytes);
  WatchEnd end = WatchEnd::kResume;
  bool stream_error = false;
  std::string error_body;
  uint64_t events_in_this_watch = 0;
  const auto started = std::chrono::steady_clock::now();
  HttpResponse response = http_.get(request, [&](long status, std::string_view bytes) {
    if (status != 200) {
      // An error answer: keep a bounded copy of its Status body to report.
      error_body.append(bytes.substr(0, kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, error_body.size())));
      return true;
    }
    auto result = framer.feed(bytes, [&](std::string_view text) {
      if (stream_error) return;
      auto event = nlohmann::json::parse(text, nullptr, false);
      ++events_in_this_watch;
      if (!handle_event(event, &end)) stream_error = true;
    });
    if (result == EventFramer::Result::kOversize) {
      record_error("WATCH " + secrets_path() + ": an event exceeds " +
                   std::to_string(config_.max_event_bytes) + " bytes; reconnecting");
      return false;
    }
    if (result == EventFramer::Result::kGarbage) {
      record_error("WATCH " + secrets_path() + ": the stream holds something that is not a JSON event");
      return false;
    }
    return !stream_error;
  });
  framer.reset();
  {
    std::lock_guard<std::mutex> lock(status_mutex_);
    ++watches_;
  }
  if (response.interrupted || stopping_.load()) return WatchEnd::kStopped;
  if (response.status == 410) return WatchEnd::kRelist;
  if (response.status != 200 && response.status != 0) {
    record_error("WATCH " + secrets_path() + ": " + describe_failure(response.status, error_body));
    return WatchEnd::kFailed;
  }
  if (stream_error || response.aborted_by_callback) return end == WatchEnd::kRelist ? end : WatchEnd::kFailed;
  if (!response.transport_error.empty()) {
    record_error("WATCH " + secrets_path() + ": " + response.transport_error);
    return WatchEnd::kFailed;
  }
  // A watch closed at once with nothing in it is a failure in disguise: back off.
  if (events_in_this_watch == 0 && std::chrono::steady_clock::now() - started < std::chrono::seconds(1))
    return WatchEnd::kFailed;
  return WatchEnd::kResume;
}

// Returns false when the stream must be dropped; *end says what comes next.
bool Watcher::handle_event(nlohmann::json& event, WatchEnd* end) {
  if (!event.is_object() || !event.contains("type") || !event["type"].is_string() ||
      !event.contains("object") || !event["object"].is_object()) {
    record_error("WATCH " + secrets_path() + ": an event is not of the form {type, object}");
    *end = WatchEnd::kFailed;
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(status_mutex_);
    ++events_;
  }
  const std::string type = event["type"].get<std::string>();
  nlohmann::json& object = event["object"];
  if (type == "ERROR") {
    const int code = object.value("code", 0);
    if (code == 410) {
      log_.push(LogLevel::kInfo, "WATCH " + secrets_path() + ": " + object.value("message", "Gone") +
                                     "; listing again");
      *end = WatchEnd::kRelist;
    } else {
      record_error("WATCH " + secrets_path() + ": ERROR event: " + object.value("message", ""));
      *end = WatchEnd::kFailed;
    }
    return false;
  }
  const std::string rv = resource_version_of(object);
  if (type == "BOOKMARK") {
    // Only advances the resourceVersion: the object carries nothing else.
  } else if (type == "ADDED" || type == "MODIFIED") {
    if (auto update = examine(object)) {
      std::vector<store::SecretUpdate> updates;
      updates.push_back(std::move(*update));
      store_.apply(std::move(updates));
    }
  } else if (type == "DELETED") {
    auto decoded = decode_secret(object);
    cleanse_secret_data(object);
    if (auto* secret = std::get_if<Secret>(&decoded)) {
      log_.push(LogLevel::kNotice, secret->id() + ": deleted");
      store_.remove(secret->id(), rv);
    }
  } else {
    record_error("WATCH " + secrets_path() + ": unknown event type \"" + type + "\"");
    *end = WatchEnd::kFailed;
    return false;
  }
  if (!rv.empty()) {
    resource_version_ = rv;
    std::lock_guard<std::mutex> lock(status_mutex_);
    status_resource_version_ = rv;
  }
  return true;
}

// Decodes and validates one Secret version. nullopt: the object is unusable
// (logged) and must not change what is served.
std::optional<store::SecretUpdate> Watcher::examine(nlohmann::json& object) {
  auto decoded = decode_secret(object);
  cleanse_secret_data(object);
  if (auto* error = std::get_if<std::string>(&decoded)) {
    log_.push(LogLevel::kWarn, "ignoring a Secret that cannot be decoded: " + *error);
    return std::nullopt;
  }
  Secret& secret = std::get<Secret>(decoded);
  store::SecretUpdate update;
  update.id = secret.id();
  update.resource_version = secret.resource_version;
  update.data_digest = secret.data_digest;
  if (!secret.has_tls_keys) return update;  // not (or no longer) a TLS Secret
  if (store_.seen(update.id, update.data_digest)) {
    update.unchanged = true;  // metadata-only change: no validation, no generation
    return update;
  }
  {
    std::lock_guard<std::mutex> lock(status_mutex_);
    ++validations_;
  }
  auto result = tls::validate_bundle(secret.tls_crt, secret.tls_key.view());
  if (auto* refusal = std::get_if<tls::Refusal>(&result)) {
    log_.push(LogLevel::kWarn, update.id + ": resourceVersion " + update.resource_version +
                                   " refused (" + refusal->code + "): " + refusal->message +
                                   "; the last good certificate, if any, keeps serving");
    update.refused = std::move(*refusal);
  } else {
    auto& bundle = std::get<tls::ValidBundle>(result);
    std::string names;
    for (const auto& sni : bundle.snis) names += (names.empty() ? "" : ", ") + sni;
    log_.push(LogLevel::kNotice, update.id + ": accepted serial " + bundle.serial_hex + " for " +
                                     names + " (resourceVersion " + update.resource_version + ")");
    update.accepted = std::move(bundle);
  }
  return update;
}

void Watcher::back_off() {
  set_state("backoff");
  ++consecutive_failures_;
  auto delay = kBackoffBase * (1 << std::min(consecutive_failures_ - 1, 6));
  delay = std::min<std::chrono::milliseconds>(delay, kBackoffCap);
  // Up to +50% jitter so a fleet of nodes does not retry in lockstep.
  std::uniform_real_distribution<double> jitter(1.0, 1.5);
  wait_for(std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(delay.count()) * jitter(random_))));
}

void Watcher::wait_for(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(wait_mutex_);
  wait_cv_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void Watcher::set_state(const char* state) {
  std::lock_guard<std::mutex> lock(status_mutex_);
  state_ = state;
}

void Watcher::record_error(const std::string& message) {
  log_.push(LogLevel::kError, message);
  std::lock_guard<std::mutex> lock(status_mutex_);
  last_error_ = message;
  last_error_at_ = unix_now();
}

nlohmann::json Watcher::status() const {
  std::lock_guard<std::mutex> lock(status_mutex_);
  nlohmann::json out = {{"state", state_},
                        {"server", config_.server},
                        {"namespace", config_.namespace_name},
                        {"resource_version", status_resource_version_},
                        {"last_sync_at", last_sync_at_},
                        {"lists", lists_},
                        {"watches", watches_},
                        {"events", events_},
                        {"validations", validations_}};
  if (!last_error_.empty()) out["last_error"] = {{"message", last_error_}, {"at", last_error_at_}};
  return out;
}

}  // namespace certsync::kube
