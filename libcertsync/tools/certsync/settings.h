// Settings: the flags that become libcertsync settings, under the library's
// own keys, so the CLI resolves a connection and validation options with the
// same code (engine_config.h) as the plugin does. Nothing is re-implemented:
// each value is checked by check_config_entry() and resolved by
// resolve_config().
#pragma once

#include <memory>
#include <string>

#include "args.h"
#include "engine_config.h"
#include "kube/connection_config.h"
#include "kube/watch_options.h"

namespace certsync::cli {

// --clock-skew-seconds N, --cn-fallback, --verify-chain, --reorder-chain, --complete-chain,
// --ignore-server-names-annotation: the plugin's validation settings.
void add_validation_flags(FlagSpec& spec);
extern const char* const kValidationFlagsHelp;
// The settings those flags give; a bad value is a UsageError naming the flag.
ConfigMap validation_settings(const Args& args);
// The node-wide options the watcher would validate with, for `check`, which
// has no cluster to connect to.
kube::WatchOptions validation_only(const ConfigMap& validation);

// --kubeconfig FILE, --context NAME, --in-cluster.
void add_connection_flags(FlagSpec& spec);
extern const char* const kConnectionFlagsHelp;
// The connection settings: the flags, else $KUBECONFIG or ~/.kube/config as
// kubectl finds them, else in-cluster when KUBERNETES_SERVICE_HOST is set.
// Failure(kConfig) when there is none.
ConfigMap connection_settings(const Args& args);

struct Resolved {
  std::shared_ptr<const kube::ConnectionConfig> connection;
  kube::WatchOptions watch;  // validation options, as the watcher gets them
  std::string description;   // "kubeconfig /root/.kube/config (context prod)", for messages
};
// Reads the files the settings name; Failure(kConfig) with the library's
// message (which names the file or field, never a token) when unusable.
Resolved resolve(ConfigMap settings);

// A namespace or Secret name as Kubernetes allows it (DNS-1123 label or
// subdomain); a UsageError naming `what` otherwise. They go into URL paths.
void check_namespace(const std::string& value, const std::string& what);
void check_object_name(const std::string& value, const std::string& what);

}  // namespace certsync::cli
