// In-cluster configuration: reach the API server through the kubernetes
// Service and authenticate with the pod's service account, as client-go's
// rest.InClusterConfig does.
#pragma once

#include <string>
#include <utility>

#include "kube/connection_config.h"

namespace certsync::kube {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT from this process's
// environment ("" for an unset variable). In nginx only the master is sure to
// have them: read them there, or declare them with `env` / `nginx_main_env`.
std::pair<std::string, std::string> in_cluster_host_port_from_environment();

// server = https://HOST:PORT (an IPv6 literal in brackets), ca_file =
// DIR/ca.crt, token_file = DIR/token (both must be readable now; the
// transport re-reads them, as the token rotates), default_namespace = the
// trimmed content of DIR/namespace ("" when that file does not exist).
// Never throws; an error names the variable or the file and the reason.
ConnectionResult load_in_cluster(const std::string& host, const std::string& port,
                                 const std::string& service_account_dir = kServiceAccountDir) noexcept;

}  // namespace certsync::kube
