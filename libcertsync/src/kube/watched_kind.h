// WatchedKind: what one Watcher lists and watches, and where the objects go.
//
// The Watcher (watcher.h) owns the Kubernetes contract, the same for every
// resource: LIST with pagination, WATCH from the list's resourceVersion with
// bookmarks, relist on 410, back off on failures. A WatchedKind owns what the
// objects mean: the Secrets of a scope, decoded and validated into the store
// (secret_kind.h), or cert-manager's Certificates of a namespace, kept beside
// them (certmanager/certificate_kind.h).
//
// Every method runs one at a time, on the watcher's thread, but for a
// relist's: those run on a thread of its own at background priority while
// the watcher's thread waits.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace certsync::kube {

class WatchedKind {
 public:
  virtual ~WatchedKind() = default;

  // "secrets", "certificates": the resource, as requests and RBAC name it.
  virtual const char* resource() const = 0;
  // Its API group, "" for the core group (in RBAC hints).
  virtual const char* group() const { return ""; }
  // "namespace default, type kubernetes.io/tls": what this watch covers, for
  // logs and the `scope` the status and metrics show; unique per watch.
  virtual std::string describe() const = 0;
  // The collection path and its selector query, e.g. "labelSelector=...".
  virtual std::string collection_path() const = 0;
  virtual std::string selector_query() const = 0;
  // The namespace watched, "" for all: for RBAC hints.
  virtual std::string namespace_name() const = 0;
  // An optional resource (a CRD that may not be installed, or that RBAC may
  // not grant): a 404 or 403 switches its watch off instead of failing,
  // and it is tried again now and then.
  virtual bool optional() const { return false; }

  // LIST: one call per page, then list_completed() once the whole list is
  // in (it applies the list, and returns what to add to the log line, e.g.
  // "3 accepted, 0 refused, 0 unchanged"), or list_abandoned() when the
  // list failed or was interrupted halfway.
  virtual void list_page(std::shared_ptr<nlohmann::json> items) = 0;
  virtual std::string list_completed() = 0;
  virtual void list_abandoned() = 0;
  // An ADDED, MODIFIED or DELETED event's object (may be modified: a Secret's
  // data is cleansed once read). `resource_version` is the event's.
  virtual void apply_event(const std::string& type, nlohmann::json& object,
                           const std::string& resource_version) = 0;
  // An optional resource became unavailable (reason: "HTTP 404 ..."), or
  // available again. Returns whether to log it: the kind says so once for
  // every watch of it, not once per namespace.
  virtual bool set_available(bool available, const std::string& reason) {
    (void)available;
    (void)reason;
    return true;
  }
  // What this kind adds to the watcher's status (counters of its own).
  virtual void add_status(nlohmann::json& status) const { (void)status; }
};

}  // namespace certsync::kube
