// WatchOptions: the limits and deadlines of one watcher, the same for every scope.
#pragma once

#include <cstddef>

namespace certsync::kube {

struct WatchOptions {
  size_t max_event_bytes = 4u << 20;   // one WATCH event; larger ones drop the stream
  size_t max_list_bytes = 256u << 20;  // one LIST page
  long idle_timeout_s = 180;           // no byte for this long: the connection is dead
                                       // (well above the API server's one-minute bookmarks)
  int list_page_size = 500;            // LIST limit=
};

}  // namespace certsync::kube
