// Fetching one Secret: GET /api/v1/namespaces/NS/secrets/NAME through the
// library's own HTTP client (kube/http_stream.h), with the token read as the
// watcher reads it, decoded by kube/secret.h.
#pragma once

#include <string>

#include "kube/connection_config.h"
#include "kube/secret.h"

namespace certsync::cli {

// The Secret, TLS or not. Throws Failure: kNotFound for a 404, kUnreachable
// for a transport error or any other API error (401 and 403 explained), and
// kConfig when the token file cannot be read. The JSON it came in is
// cleansed before this returns.
kube::Secret fetch_secret(const kube::ConnectionConfig& connection, const std::string& namespace_name,
                          const std::string& name);

}  // namespace certsync::cli
