// WatchConfig: where the API server is, how to trust and authenticate to it,
// and what to watch. Built from the C ABI's key/value configuration.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "util/secret_bytes.h"

namespace certsync::kube {

struct WatchConfig {
  std::string server;          // https://host:port, no trailing slash
  std::string ca_file;
  std::string token_file;
  std::string namespace_name;
  bool insecure_skip_tls_verify = false;
  size_t max_event_bytes = 4u << 20;   // one WATCH event
  size_t max_list_bytes = 256u << 20;  // one LIST response
};

// Checks the configuration and the files it names. Returns an error naming the
// field or file that is wrong, or nullopt when the watcher can start.
std::optional<std::string> check_watch_config(const WatchConfig& config);

// Reads the bearer token (trailing whitespace dropped). Re-read before every
// request: projected service-account tokens rotate.
std::optional<SecretBytes> read_token_file(const std::string& path, std::string* error);

}  // namespace certsync::kube
