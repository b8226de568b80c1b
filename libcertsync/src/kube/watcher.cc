#include "kube/watcher.h"

#include <openssl/crypto.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <ctime>
#include <future>
#include <memory>
#include <optional>

#include "kube/credentials.h"
#include "kube/event_framer.h"
#include "kube/secret_kind.h"
#include "util/background_priority.h"

namespace certsync::kube {

namespace {

constexpr size_t kMaxErrorBodyBytes = 64 * 1024;

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

std::string resource_version_of(const nlohmann::json& object) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto rv = metadata->find("resourceVersion");
  return rv != metadata->end() && rv->is_string() ? rv->get<std::string>() : "";
}

// Appends up to the error-body cap: enough for a Status, never a whole stream.
void keep_error_body(std::string* body, std::string_view bytes) {
  const size_t room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, body->size());
  body->append(bytes.substr(0, room));
}

// A list's pages (tens of MB of JSON at 10,000 Secrets) are parsed and
// freed on the validation threads, each with its own malloc arena, and
// glibc keeps what they freed mapped. Hand it back once the list is done.
void release_list_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

Watcher::Watcher(std::shared_ptr<const ConnectionConfig> connection, Scope scope, size_t scope_index,
                 WatchOptions options, store::Store& store, LogQueue& log)
    : Watcher(std::move(connection), std::make_unique<SecretKind>(std::move(scope), scope_index, options, store, log),
              options, log) {}

Watcher::Watcher(std::shared_ptr<const ConnectionConfig> connection, std::unique_ptr<WatchedKind> kind,
                 WatchOptions options, LogQueue& log)
    : connection_(std::move(connection)),
      kind_(std::move(kind)),
      options_(options),
      log_(log),
      random_(std::random_device{}()),
      down_since_(unix_now()) {}

Watcher::~Watcher() { stop(); }

void Watcher::start() {
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  if (thread_.joinable()) return;
  // Startable again after stop(): it resumes from the last resourceVersion.
  stopping_.store(false);
  http_.resume();
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

std::string Watcher::path(const std::string& extra_query) const {
  std::string query = kind_->selector_query();
  if (!extra_query.empty()) query += (query.empty() ? "" : "&") + extra_query;
  return kind_->collection_path() + (query.empty() ? "" : "?" + query);
}

std::string Watcher::what(const char* verb) const {
  return std::string(verb) + " " + kind_->resource() + " in " + kind_->describe();
}

HttpRequest Watcher::make_request(const std::string& path_and_query) {
  HttpRequest request;
  request.connection = connection_.get();
  request.path_and_query = path_and_query;
  std::string error;
  if (auto token = current_token(*connection_, &error)) {
    request.bearer_token = std::move(*token);
  } else {
    record_error("token", error);  // the request goes out without a token and gets a 401 to report
  }
  return request;
}

void Watcher::run() {
  Phase phase = Phase::kList;
  bool auth_retried = false;
  while (!stopping_.load()) {
    set_state(phase == Phase::kList ? "listing" : "watching");
    retry_after_.reset();
    AttemptOutcome outcome;
    if (phase == Phase::kWatch) {
      outcome = watch();
    } else {
      outcome = listed_once() ? relist_at_background_priority() : list();
    }
    outcome.auth_retried = auth_retried;
    Next next = decide(phase, outcome);
    // A LIST answered with 410 starts over at once, but never twice in a row without a pause.
    if (phase == Phase::kList && next == Next::kList) next = Next::kBackOffThenList;
    auth_retried = next == Next::kRetryNow;
    switch (next) {
      case Next::kStop:
        return;
      case Next::kWatch:
        phase = Phase::kWatch;
        break;
      case Next::kList:
        phase = Phase::kList;
        break;
      case Next::kRetryNow:
        log_.push(LogLevel::kNotice, kind_->describe() + ": 401 Unauthorized; retrying with the token read again");
        break;
      case Next::kPauseThenList:
        // Switched off, not failing: no backoff, no error, not "down".
        set_state("unavailable");
        wait_for(std::chrono::seconds(options_.unavailable_recheck_s));
        phase = Phase::kList;
        break;
      case Next::kBackOffThenList:
      case Next::kBackOffThenWatch: {
        const auto delay = backoff_.next(Backoff::Clock::now(), retry_after_);
        set_state("backoff");
        {
          std::lock_guard<std::mutex> lock(status_mutex_);
          backoff_until_ = unix_now() + (delay.count() + 999) / 1000;
        }
        wait_for(delay);
        phase = next == Next::kBackOffThenList ? Phase::kList : Phase::kWatch;
        break;
      }
    }
  }
}

bool Watcher::note_unavailable(const char* verb, const ApiStatus& status, AttemptOutcome* outcome) {
  if (!kind_->optional() || (status.code != 404 && status.code != 403)) return false;
  const std::string group = kind_->group();
  const std::string resource = kind_->resource() + (group.empty() ? "" : "." + group);
  const std::string reason =
      status.code == 404
          ? "the API server has no " + resource + " (HTTP 404: the CRD is not installed)"
          : "RBAC does not allow " + std::string(verb) + " on " + resource + " " +
                (kind_->namespace_name().empty() ? std::string("cluster-wide")
                                                 : "in namespace " + kind_->namespace_name()) +
                " (HTTP 403)";
  if (kind_->set_available(false, reason)) {
    log_.push(LogLevel::kNotice, "not watching " + resource + ": " + reason +
                                     "; Secrets are served as before, and certsync looks again every " +
                                     std::to_string(options_.unavailable_recheck_s) + " s");
  }
  {
    std::lock_guard<std::mutex> lock(status_mutex_);
    unavailable_ = reason;
  }
  was_unavailable_ = true;
  outcome->unavailable = true;
  return true;
}

void Watcher::note_failure(const char* verb, const ApiStatus& status) {
  std::string message = what(verb) + ": " + status.describe();
  if (status.code == 403) {
    const std::string& ns = kind_->namespace_name();
    const auto* secrets = dynamic_cast<const SecretKind*>(kind_.get());
    const std::string name = secrets != nullptr ? secrets->secret_name() : std::string();
    message += " (RBAC: the identity certsync runs as needs \"" + std::string(verb) + "\" on \"" +
               kind_->resource() + "\"" +
               (std::string(kind_->group()).empty() ? "" : " in API group \"" + std::string(kind_->group()) + "\"") +
               " " + (ns.empty() ? std::string("cluster-wide") : "in namespace \"" + ns + "\"") +
               (name.empty() ? "" : " for resourceNames [\"" + name + "\"]") + ")";
  } else if (status.code == 401) {
    message += " (the token was refused; it is read again before each request)";
  }
  if (status.retry_after)
    message += "; the server asks to retry after " + std::to_string(status.retry_after->count() / 1000) + " s";
  record_error(status.code > 0 ? std::to_string(status.code) : "decode", message);
  retry_after_ = status.retry_after;
}

bool Watcher::listed_once() const {
  std::lock_guard<std::mutex> lock(status_mutex_);
  return lists_completed_ > 0;
}

AttemptOutcome Watcher::relist_at_background_priority() {
  // A relist (410 Gone, a watch the server could not resume) is bulk work
  // nothing waits on: the last good set keeps serving. At 10,000 Secrets
  // its JSON alone is 0.6 s of CPU, which on a busy node came out of the
  // event loops' share. So it runs on a thread of its own at nice +10 (its
  // validation helpers inherit it), while the watcher's thread, which
  // applies a renewal the moment its event arrives, keeps the worker's
  // priority: a thread that lowered its own could not raise it again
  // without privileges. The first list stays at the worker's priority:
  // the node is not ready until it is in.
  return std::async(std::launch::async, [this] {
           util::lower_thread_priority();
           return list();
         })
      .get();
}

AttemptOutcome Watcher::list() {
  const auto started = std::chrono::steady_clock::now();
  size_t pages = 0, listed = 0, listed_bytes = 0;
  AttemptOutcome outcome;
  std::string continue_token;
  std::string list_resource_version;
  // Every return before the list is complete tells the kind, which may hold
  // pages in flight (a Secret page is validated while the next one comes).
  struct AbandonOnExit {
    WatchedKind& kind;
    bool completed = false;
    ~AbandonOnExit() {
      if (!completed) kind.list_abandoned();
    }
  } abandon_on_exit{*kind_};
  do {
    std::string query = "limit=" + std::to_string(options_.list_page_size);
    if (!continue_token.empty()) query += "&continue=" + query_escape(continue_token);
    std::string body;
    bool too_large = false;
    HttpResponse response = http_.get(make_request(path(query)), [&](long status, std::string_view bytes) {
      if (status != 200) {
        keep_error_body(&body, bytes);
        return true;
      }
      if (body.size() + bytes.size() > options_.max_list_bytes) {
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
    outcome.http_status = response.status;
    if (response.interrupted || stopping_.load()) {
      OPENSSL_cleanse(body.data(), body.size());
      outcome.interrupted = true;
      return outcome;
    }
    if (too_large || !response.transport_error.empty()) {
      OPENSSL_cleanse(body.data(), body.size());
      record_error(too_large ? "too_large" : "transport",
                   what("list") + ": " +
                       (too_large ? "a page exceeds " + std::to_string(options_.max_list_bytes) + " bytes"
                                  : response.transport_error));
      outcome.http_status = 0;
      return outcome;
    }
    if (response.status != 200) {
      ApiStatus status = parse_api_status(response.status, body, response.headers);
      if (note_unavailable("list", status, &outcome)) return outcome;
      note_failure("list", status);
      outcome.expired = response.status == 410;
      return outcome;
    }
    ++pages;
    listed_bytes += body.size();
    auto json = nlohmann::json::parse(body, nullptr, false);
    OPENSSL_cleanse(body.data(), body.size());  // it holds every Secret of the page
    if (!json.is_object() || !json.contains("items") || !json["items"].is_array()) {
      record_error("decode", what("list") + ": the response is not a list");
      outcome.http_status = 0;
      return outcome;
    }
    auto items = std::make_shared<nlohmann::json>(std::move(json["items"]));
    listed += items->size();
    kind_->list_page(std::move(items));
    const auto& metadata = json.value("metadata", nlohmann::json::object());
    // Watch from the list's resourceVersion, never an item's: items may be older.
    list_resource_version = metadata.value("resourceVersion", "");
    continue_token = metadata.value("continue", "");
  } while (!continue_token.empty() && !stopping_.load());
  if (stopping_.load()) {
    outcome.interrupted = true;
    return outcome;
  }
  abandon_on_exit.completed = true;
  const std::string summary = kind_->list_completed();
  if (was_unavailable_) {
    was_unavailable_ = false;
    if (kind_->set_available(true, ""))
      log_.push(LogLevel::kNotice, kind_->resource() + std::string(" can be watched now: watching them in ") +
                                       kind_->describe());
  }
  resource_version_ = list_resource_version;
  {
    std::lock_guard<std::mutex> lock(status_mutex_);
    status_resource_version_ = resource_version_;
    unavailable_.clear();
    ++lists_completed_;
  }
  note_sync();
  release_list_memory();
  const auto took_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  log_.push(LogLevel::kNotice, "listed " + std::to_string(listed) + " " + kind_->resource() + " in " +
                                 kind_->describe() + " at resourceVersion " + resource_version_ + " in " +
                                 std::to_string(took_ms) + " ms (" + std::to_string(pages) + " pages, " +
                                 std::to_string(listed_bytes) + " bytes" +
                                 (summary.empty() ? "" : "; " + summary) + ")");
  outcome.succeeded = true;
  return outcome;
}

AttemptOutcome Watcher::watch() {
  std::uniform_int_distribution<int> spread(300, 599);
  const int timeout_seconds = spread(random_);
  HttpRequest request = make_request(path("watch=true&allowWatchBookmarks=true&resourceVersion=" +
                                          query_escape(resource_version_) +
                                          "&timeoutSeconds=" + std::to_string(timeout_seconds)));
  // A hard deadline just past the server's own, and an idle deadline well above
  // the bookmark cadence, so a dead connection is noticed.
  request.total_timeout_ms = (timeout_seconds + 30) * 1000L;
  request.idle_timeout_s = options_.idle_timeout_s;
  // The stream is open and in step from the moment the server says 200.
  request.on_headers = [this](long status) {
    if (status == 200) note_sync(/*event=*/false);
  };

  AttemptOutcome outcome;
  EventFramer framer(options_.max_event_bytes);
  bool stream_error = false;
  std::string error_body;
  uint64_t events_in_this_watch = 0;
  const auto started = std::chrono::steady_clock::now();
  HttpResponse response = http_.get(request, [&](long status, std::string_view bytes) {
    if (status != 200) {
      keep_error_body(&error_body, bytes);
      return true;
    }
    auto result = framer.feed(bytes, [&](std::string_view text) {
      if (stream_error) return;
      auto event = nlohmann::json::parse(text, nullptr, false);
      ++events_in_this_watch;
      if (!handle_event(event, &outcome)) stream_error = true;
    });
    if (result == EventFramer::Result::kOversize) {
      record_error("too_large", what("watch") + ": an event exceeds " +
                   std::to_string(options_.max_event_bytes) + " bytes; dropping the stream");
      return false;
    }
    if (result == EventFramer::Result::kGarbage) {
      record_error("decode",
                   what("watch") + ": the stream holds something that is not a JSON event");
      return false;
    }
    return !stream_error;
  });
  framer.reset();
  {
    std::lock_guard<std::mutex> lock(status_mutex_);
    ++watches_;
  }
  outcome.http_status = response.status;
  if (response.interrupted || stopping_.load()) {
    outcome.interrupted = true;
    return outcome;
  }
  if (response.status != 200 && response.status != 0) {
    ApiStatus status = parse_api_status(response.status, error_body, response.headers);
    if (note_unavailable("watch", status, &outcome)) return outcome;
    note_failure("watch", status);
    outcome.resource_version_too_large = status.resource_version_too_large;
    return outcome;
  }
  if (stream_error || response.aborted_by_callback) return outcome;  // handle_event said why
  if (response.status == 200 && response.timed_out) {
    // An open watch that stayed quiet past the idle deadline: on a cluster
    // without etcd's progress notifications an idle namespace sends no
    // BOOKMARK, so this is how a healthy watch looks too. Resume from the
    // last resourceVersion at once, as after a normal end; a dead
    // connection is replaced the same way, and an error would only add a
    // backoff and a false alarm every few minutes.
    log_.push(LogLevel::kDebug, what("watch") + ": quiet for " +
                                    std::to_string(options_.idle_timeout_s) + " s, reopening it");
    outcome.succeeded = true;
    return outcome;
  }
  if (!response.transport_error.empty()) {
    record_error("transport", what("watch") + ": " + response.transport_error);
    outcome.http_status = 0;
    return outcome;
  }
  outcome.succeeded = true;
  // A watch closed at once with nothing in it is a failure in disguise.
  outcome.closed_at_once =
      events_in_this_watch == 0 && std::chrono::steady_clock::now() - started < std::chrono::seconds(1);
  return outcome;
}

bool Watcher::handle_event(nlohmann::json& event, AttemptOutcome* outcome) {
  {
    std::lock_guard<std::mutex> lock(status_mutex_);
    ++events_;
  }
  if (!event.is_object() || !event.contains("type") || !event["type"].is_string() ||
      !event.contains("object") || !event["object"].is_object()) {
    record_error("decode", what("watch") + ": an event is not of the form {type, object}");
    return false;
  }
  const std::string type = event["type"].get<std::string>();
  nlohmann::json& object = event["object"];
  if (type == "ERROR") {
    ApiStatus status = parse_status_object(object);
    if (status.code == 410 || status.reason == "Expired" || status.reason == "Gone") {
      {
        std::lock_guard<std::mutex> lock(status_mutex_);
        ++errors_["410"];  // expected now and then (compaction), but worth counting
      }
      log_.push(LogLevel::kInfo, what("watch") + ": " + status.message + "; listing again");
      outcome->expired = true;
    } else {
      note_failure("watch", status);
      outcome->http_status = status.code;
    }
    return false;
  }
  const std::string rv = resource_version_of(object);
  if (type == "BOOKMARK") {
    // Only advances the resourceVersion: the object carries nothing else.
  } else if (type == "ADDED" || type == "MODIFIED" || type == "DELETED") {
    kind_->apply_event(type, object, rv);
  } else {
    record_error("decode", what("watch") + ": unknown event type \"" + type + "\"");
    return false;
  }
  if (!rv.empty()) {
    resource_version_ = rv;
    std::lock_guard<std::mutex> lock(status_mutex_);
    status_resource_version_ = rv;
  }
  note_sync();
  return true;
}

void Watcher::wait_for(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(wait_mutex_);
  wait_cv_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void Watcher::set_state(const char* state) {
  std::lock_guard<std::mutex> lock(status_mutex_);
  state_ = state;
  if (state_ != "backoff") backoff_until_ = 0;
  // Down from the first failure (or stop) until the next LIST completes or an
  // event arrives (note_sync); listing again after a 410 does not count.
  if ((state_ == "backoff" || state_ == "stopped") && down_since_ == 0) down_since_ = unix_now();
}

void Watcher::note_sync(bool event) {
  const int64_t now = unix_now();
  std::lock_guard<std::mutex> lock(status_mutex_);
  last_sync_at_ = now;
  down_since_ = 0;
  if (event && state_ == "watching") last_event_at_ = now;
}

void Watcher::record_error(const std::string& kind, const std::string& message) {
  log_.push(LogLevel::kError, message);
  std::lock_guard<std::mutex> lock(status_mutex_);
  ++errors_[kind];
  last_error_ = message;
  last_error_at_ = unix_now();
}

nlohmann::json Watcher::status() const {
  std::lock_guard<std::mutex> lock(status_mutex_);
  nlohmann::json out = {{"scope", kind_->describe()},
                        {"server", connection_->server},
                        {"state", state_},
                        {"up", down_since_ == 0},
                        {"down_since", down_since_},
                        {"backoff_until", backoff_until_},
                        {"resource_version", status_resource_version_},
                        {"last_sync_at", last_sync_at_},
                        {"last_event_at", last_event_at_},
                        {"lists", lists_},
                        {"relists", lists_completed_ > 1 ? lists_completed_ - 1 : 0},
                        {"watches", watches_},
                        {"events", events_},
                        // What crossed the wire for this scope: what secret_types saves.
                        {"bytes_received", http_.body_bytes_received()},
                        {"errors", nlohmann::json::object()}};
  for (const auto& [kind, count] : errors_) out["errors"][kind] = count;
  if (!unavailable_.empty()) out["unavailable"] = unavailable_;
  kind_->add_status(out);
  if (!last_error_.empty()) out["last_error"] = {{"message", last_error_}, {"at", last_error_at_}};
  return out;
}

}  // namespace certsync::kube
