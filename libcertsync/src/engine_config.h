// EngineConfig: the C ABI's key/value settings, checked and resolved into
// what the engine runs: one connection, the scopes to watch, and limits.
//
// Connection sources (exactly one):
//   explicit     server [ca_file] [token_file] [client_cert_file client_key_file]
//                [tls_server_name] [insecure_skip_tls_verify]
//   in_cluster   in_cluster=true [in_cluster_host in_cluster_port] [service_account_dir]
//                (host and port default to KUBERNETES_SERVICE_HOST/_PORT, which
//                nginx workers only see when passed explicitly or declared with env)
//   kubeconfig   kubeconfig=PATH [context]
// Scope: namespaces ("a,b", or "*" for all; `namespace` is accepted for one),
// defaulting to the source's namespace; [label_selector]; [secret_names]
// ("ns/name" or "name", one watch each, as RBAC resourceNames requires);
// [secret_types] ("kubernetes.io/tls,Opaque", default kubernetes.io/tls, "*"
// alone for every type): filtered by the API server, one watch per type.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kube/connection_config.h"
#include "kube/scope.h"
#include "kube/watch_options.h"
#include "store/store.h"

namespace certsync {

using ConfigMap = std::map<std::string, std::string>;

// The Secret type watched when secret_types is not set.
inline constexpr const char* kDefaultTlsSecretType = "kubernetes.io/tls";

struct EngineConfig {
  std::shared_ptr<const kube::ConnectionConfig> connection;
  std::vector<kube::Scope> scopes;
  kube::WatchOptions watch;
  store::DeletionPolicy deletion_policy = store::DeletionPolicy::kKeep;
  std::string notify_socket;  // Unix socket path the workers wait on (util/wake_server.h); "" for none
  // cert_manager = "auto" (default): also watch cert-manager's Certificates
  // where the API has them and RBAC allows; "off": never ask.
  bool cert_manager = true;
};

// The namespaces whose Certificates to watch for these Secret scopes: each
// namespace once (the Secret types and names of a namespace share one), or
// "" alone when a scope covers every namespace.
std::vector<std::string> certificate_namespaces(const std::vector<kube::Scope>& scopes);

// Checks one key and value on their own; returns an error naming the key.
std::optional<std::string> check_config_entry(const std::string& key, const std::string& value);

// Resolves the whole configuration, reading the files it names. Returns an
// error naming the setting, file or field when it is unusable.
std::variant<EngineConfig, std::string> resolve_config(const ConfigMap& settings);

}  // namespace certsync
