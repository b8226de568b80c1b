// WATCH: one HTTP/1.1 chunked response, one JSON event per chunk, each
// ending in "\n" (fixtures/kube-api-samples 14, 15, 17, 18).
//
// The stream runs on its connection's own thread (connection_threads.h), in
// httplib's chunked content provider: it blocks on the store until events,
// the next bookmark, the timeout, a client disconnect or shutdown.
//
// An injected fault (faults.h) may hold the stream after its headers, drip
// its bytes, tear it after some events, or slip in one oversize event or one
// event of an unknown type before the live ones.
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "fault_delivery.h"
#include "http_helpers.h"
#include "routes.h"
#include "secret_object.h"

namespace kube_test {
namespace {

using Clock = std::chrono::steady_clock;

// Without timeoutSeconds a real server picks 30-60 min; tests always pass one.
constexpr long kDefaultTimeoutSeconds = 1800;
// How often an idle stream checks whether its client went away.
constexpr auto kPollInterval = std::chrono::milliseconds(200);

struct WatchStream {
  ServerContext *ctx = nullptr;
  SecretStore *store = nullptr;  // what is watched: the Secrets or the Certificates
  WatchCursor cursor;
  std::vector<Json> initial;
  Json expired_status;  // non-null: the start RV was too old
  long timeout_seconds = kDefaultTimeoutSeconds;
  bool bookmarks = false;
  int socket = -1;
  std::optional<FaultHit> fault;
};

// The annotation that pads an oversize event to the requested size.
constexpr char kPaddingAnnotation[] = "kube-api-test-server/padding";

Json bookmark(const ObjectKind &kind, uint64_t rv) {
  // Exactly the shape of sample 14: an empty Secret but for its
  // resourceVersion, and creationTimestamp null.
  Json meta;
  meta["resourceVersion"] = std::to_string(rv);
  meta["creationTimestamp"] = nullptr;
  Json obj;
  obj["kind"] = kind.kind;
  obj["apiVersion"] = kind.api_version;
  obj["metadata"] = meta;
  Json e;
  e["type"] = "BOOKMARK";
  e["object"] = obj;
  return e;
}

Json error_event(const Json &status) {
  Json e;
  e["type"] = "ERROR";
  e["object"] = status;
  return e;
}

Json watch_event(const std::string &type, const Json &object) {
  Json e;
  e["type"] = type;
  e["object"] = object;
  return e;
}

// What an injected event shows: the first Secret this watch can see, or a
// made-up one when it sees none (`existing` tells which). Its
// resourceVersion is the watch's own, so a client that takes the event in
// does not move past events it has not had yet.
Json fault_object(const WatchStream &w, bool &existing) {
  std::optional<Json> found =
      w.store->first_match(w.cursor.ns, w.cursor.selector);
  existing = found.has_value();
  Json obj;
  if (found) {
    obj = *found;
  } else {
    obj["metadata"]["name"] = "kube-api-test-fault";
    obj["metadata"]["namespace"] =
        w.cursor.ns.empty() ? "default" : w.cursor.ns;
    obj["metadata"]["uid"] = new_uid();
    obj["metadata"]["creationTimestamp"] = now_rfc3339();
    obj["type"] = "Opaque";
  }
  obj["metadata"]["resourceVersion"] = std::to_string(w.cursor.rv);
  return w.store->canonical(obj);
}

// One event whose JSON is exactly `bytes` long (at least as long as it is
// with an empty padding annotation): MODIFIED of a Secret the watch sees,
// or ADDED of a made-up one.
Json oversize_event(const WatchStream &w, size_t bytes) {
  bool existing = false;
  Json obj = fault_object(w, existing);
  obj["metadata"]["annotations"][kPaddingAnnotation] = "";
  Json e = watch_event(existing ? "MODIFIED" : "ADDED", w.store->canonical(obj));
  const size_t base = e.dump().size();
  if (bytes > base) {
    // 'x' needs no escaping: the padding adds exactly its own length.
    e["object"]["metadata"]["annotations"][kPaddingAnnotation] =
        std::string(bytes - base, 'x');
  }
  return e;
}

// The events a fault slips in before the live ones.
std::vector<Json> injected_events(const WatchStream &w, const FaultHit &f) {
  std::vector<Json> out;
  if (!f.unknown_event_type.empty()) {
    bool existing = false;
    out.push_back(watch_event(f.unknown_event_type, fault_object(w, existing)));
  }
  if (f.oversize_event_bytes > 0) {
    out.push_back(
        oversize_event(w, static_cast<size_t>(f.oversize_event_bytes)));
  }
  return out;
}

// Runs the whole stream; returns false to make httplib drop the connection.
bool run_stream(WatchStream &w, httplib::DataSink &sink) {
  ServerContext &ctx = *w.ctx;
  OpenWatchGuard open(ctx.counters);
  const FaultHit *fault = w.fault ? &*w.fault : nullptr;
  // Injected fault: the headers are out, and now nothing, not even a byte.
  if (fault != nullptr && !hold_after_headers(ctx, *fault, w.socket)) {
    return false;
  }
  int sent = 0;
  auto send = [&](const Json &event) {
    std::string line = event.dump() + "\n";
    if (fault != nullptr && fault->drop_after_events >= 0 &&
        sent >= fault->drop_after_events) {
      // Injected fault: half an event, then the connection dies.
      sink.write(line.data(), line.size() / 2);
      if (w.socket >= 0) ::shutdown(w.socket, SHUT_RDWR);
      return false;
    }
    if (!write_through_fault(ctx, fault, sink, line.data(), line.size(),
                             w.socket)) {
      return false;
    }
    ++sent;
    return true;
  };

  if (!w.expired_status.is_null()) {
    // A too-old resourceVersion: 200, one ERROR event, end (sample 17).
    if (send(error_event(w.expired_status))) sink.done();
    return true;
  }
  for (const Json &e : w.initial) {
    if (!send(e)) return false;
  }
  if (fault != nullptr) {
    for (const Json &e : injected_events(w, *fault)) {
      std::fprintf(stderr, "[kube-api-test-server] fault: a %s event\n",
                   e["type"].get<std::string>().c_str());
      if (!send(e)) return false;
    }
  }

  const auto interval = std::chrono::milliseconds(ctx.bookmark_interval_ms);
  const auto deadline = Clock::now() + std::chrono::seconds(w.timeout_seconds);
  auto next_bookmark = Clock::now() + interval;
  // Bookmarks never claim a resourceVersion the store has not reached (a
  // watch started in the future stays silent, as in sample 18).
  auto send_bookmark = [&] {
    if (w.cursor.rv > w.store->current_rv()) return true;
    return send(bookmark(w.store->kind(), w.cursor.rv));
  };

  std::vector<Json> events;
  while (true) {
    const auto now = Clock::now();
    if (now >= deadline) {
      // The real server sends a last bookmark before it ends the watch.
      if (w.bookmarks && !send_bookmark()) return false;
      break;
    }
    if (w.bookmarks && now >= next_bookmark) {
      if (!send_bookmark()) return false;
      next_bookmark = now + interval;
    }
    auto until = std::min(deadline, now + kPollInterval);
    if (w.bookmarks) until = std::min(until, next_bookmark);
    events.clear();
    Json expired;
    WatchWait st = w.store->next_events(w.cursor, until, events, expired);
    if (st == WatchWait::kEvents) {
      for (const Json &e : events) {
        if (!send(e)) return false;
      }
    } else if (st == WatchWait::kExpired) {
      if (!send(error_event(expired))) return false;
      break;
    } else if (st == WatchWait::kStopped) {
      break;
    } else if (peer_hung_up(w.socket)) {
      return false;
    }
  }
  sink.done();
  return true;
}

}  // namespace

void serve_watch(ServerContext &ctx, const httplib::Request &req,
                 httplib::Response &res, const std::string &ns,
                 const FaultHit *fault, SecretStore *store) {
  auto w = std::make_shared<WatchStream>();
  w->ctx = &ctx;
  w->store = store != nullptr ? store : &ctx.store;
  w->cursor.ns = ns;
  if (auto err = Selector::parse(param(req, "labelSelector"),
                                 param(req, "fieldSelector"),
                                 w->cursor.selector)) {
    return send_error(req, res, bad_request(*err));
  }
  const std::string timeout = param(req, "timeoutSeconds");
  if (!timeout.empty()) {
    if (timeout.find_first_not_of("0123456789") != std::string::npos ||
        timeout.size() > 9) {
      return send_error(req, res,
                        bad_request("invalid timeoutSeconds \"" + timeout +
                                    "\""));
    }
    // 0 means "the server's default", as on a real server.
    if (std::stol(timeout) > 0) w->timeout_seconds = std::stol(timeout);
  }
  w->bookmarks = param(req, "allowWatchBookmarks") == "true";
  w->socket = request_socket(req);
  if (fault != nullptr) w->fault = *fault;
  const std::string rv = param(req, "resourceVersion");
  if (rv.find_first_not_of("0123456789") != std::string::npos ||
      rv.size() > 19) {
    return send_error(req, res,
                      bad_request("invalid resource version \"" + rv + "\""));
  }
  // When the resourceVersion is too old, expired_status is set and the
  // stream carries the ERROR event.
  w->store->start_watch(w->cursor, rv, w->initial, w->expired_status);
  std::fprintf(stderr, "[kube-api-test-server] watch open ns=%s rv=%s -> %s\n",
               ns.empty() ? "*" : ns.c_str(), rv.empty() ? "\"\"" : rv.c_str(),
               w->expired_status.is_null()
                   ? ("from " + std::to_string(w->cursor.rv)).c_str()
                   : "410 Expired");

  set_common_headers(res);
  res.status = 200;
  res.set_chunked_content_provider(
      "application/json",
      [w](size_t, httplib::DataSink &sink) { return run_stream(*w, sink); });
}

}  // namespace kube_test
