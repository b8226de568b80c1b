// A GET through the library's HTTP client (kube/http_stream.h) that keeps at
// most `max_bytes` of the body: a broken server cannot make the CLI hold
// more. Shared by the Secret and the Certificate lookups.
#pragma once

#include <cstddef>
#include <string>

#include "kube/http_stream.h"

namespace certsync::cli {

struct BoundedResponse {
  kube::HttpResponse response;
  bool too_large = false;  // the body passed max_bytes; the transfer was cut there
};

// Appends the body to `body` (the caller's, so that it can wipe it).
BoundedResponse bounded_get(kube::HttpStream& http, const kube::HttpRequest& request, size_t max_bytes,
                            std::string& body);

}  // namespace certsync::cli
