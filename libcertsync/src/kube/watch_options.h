// WatchOptions: the limits and deadlines of one watcher, the same for every scope.
#pragma once

#include <cstddef>

#include "tls/validate.h"

namespace certsync::kube {

struct WatchOptions {
  size_t max_event_bytes = 4u << 20;   // one WATCH event; larger ones drop the stream
  size_t max_list_bytes = 256u << 20;  // one LIST page
  long idle_timeout_s = 180;           // no byte for this long: the connection is dead
                                       // (well above the API server's one-minute bookmarks)
  int list_page_size = 500;            // LIST limit=
  // An optional resource answered 404/403: how long until it is listed
  // again (cert-manager may be installed, or RBAC granted, meanwhile).
  long unavailable_recheck_s = 300;
  // Node-wide validation settings (clock skew, CN fallback, chain checks);
  // the per-Secret ones (ca.crt, annotations) are added Secret by Secret.
  tls::ValidationOptions validation;
  bool honour_server_names_annotation = true;  // kube::kServerNamesAnnotation
};

}  // namespace certsync::kube
