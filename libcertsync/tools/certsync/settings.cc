#include "settings.h"

#include <cstdlib>
#include <fstream>
#include <variant>

namespace certsync::cli {

namespace {

bool file_exists(const std::string& path) {
  std::ifstream file(path);
  return static_cast<bool>(file);
}

// What kubectl reads: the first existing file of $KUBECONFIG (a colon-separated
// list; the library reads one file, so the rest is not merged in), else
// ~/.kube/config. "" when there is none.
std::string default_kubeconfig() {
  if (const char* list = std::getenv("KUBECONFIG"); list != nullptr && *list != '\0') {
    std::string paths = list;
    std::string first;
    for (size_t start = 0; start <= paths.size();) {
      size_t end = paths.find(':', start);
      if (end == std::string::npos) end = paths.size();
      const std::string path = paths.substr(start, end - start);
      if (first.empty()) first = path;
      if (!path.empty() && file_exists(path)) return path;
      start = end + 1;
    }
    return first;  // none exists: the library's error will name it
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0' && file_exists(std::string(home) + "/.kube/config"))
    return std::string(home) + "/.kube/config";
  return "";
}

}  // namespace

const char* const kValidationFlagsHelp =
    "Validation (the plugin's settings of the same names; defaults as in the plugin):\n"
    "  --clock-skew-seconds N            notBefore tolerance (300)\n"
    "  --cn-fallback                     serve the subject CN when there is no subjectAltName\n"
    "  --verify-chain                    refuse a bundle that does not chain up to its ca.crt\n"
    "  --reorder-chain                   re-sort an out-of-order tls.crt instead of refusing it\n"
    "  --complete-chain                  append the intermediates ca.crt holds when tls.crt lacks them\n"
    "  --ignore-server-names-annotation  server_names_annotation = ignore\n";

const char* const kConnectionFlagsHelp =
    "Connection (one source; default: $KUBECONFIG or ~/.kube/config, as kubectl,\n"
    "else in-cluster when KUBERNETES_SERVICE_HOST is set):\n"
    "  --kubeconfig FILE   a kubeconfig file (token, tokenFile or client certificate users;\n"
    "                      exec and auth-provider users are refused)\n"
    "  --context NAME      a context of it (default: current-context)\n"
    "  --in-cluster        the pod's service account and the kubernetes Service\n";

void add_validation_flags(FlagSpec& spec) {
  spec.valued.push_back("--clock-skew-seconds");
  for (const char* flag : {"--cn-fallback", "--verify-chain", "--reorder-chain", "--complete-chain",
                           "--ignore-server-names-annotation"})
    spec.booleans.push_back(flag);
}

ConfigMap validation_settings(const Args& args) {
  ConfigMap settings;
  if (auto skew = args.value("--clock-skew-seconds")) settings["clock_skew_seconds"] = *skew;
  if (args.has("--cn-fallback")) settings["cn_fallback"] = "true";
  if (args.has("--verify-chain")) settings["verify_chain"] = "true";
  if (args.has("--reorder-chain")) settings["reorder_chain"] = "true";
  if (args.has("--complete-chain")) settings["complete_chain"] = "true";
  if (args.has("--ignore-server-names-annotation")) settings["server_names_annotation"] = "ignore";
  for (const auto& [key, value] : settings) {
    if (auto error = check_config_entry(key, value)) throw UsageError(*error);
  }
  return settings;
}

kube::WatchOptions validation_only(const ConfigMap& validation) {
  // resolve_config() is where the library turns settings into options; to
  // use it rather than a copy, give it a connection it never opens.
  ConfigMap settings = validation;
  settings["server"] = "https://certsync-check.invalid";
  settings["insecure_skip_tls_verify"] = "true";
  settings["namespaces"] = "*";
  auto resolved = resolve_config(settings);
  if (auto* error = std::get_if<std::string>(&resolved)) throw UsageError(*error);
  return std::get<EngineConfig>(resolved).watch;
}

void add_connection_flags(FlagSpec& spec) {
  spec.valued.push_back("--kubeconfig");
  spec.valued.push_back("--context");
  spec.booleans.push_back("--in-cluster");
}

ConfigMap connection_settings(const Args& args) {
  const auto kubeconfig = args.value("--kubeconfig");
  const auto context = args.value("--context");
  if (args.has("--in-cluster")) {
    if (kubeconfig || context) throw UsageError("--in-cluster excludes --kubeconfig and --context");
    return {{"in_cluster", "true"}};
  }
  std::string path = kubeconfig ? *kubeconfig : default_kubeconfig();
  if (path.empty()) {
    // client-go's fallback when no kubeconfig exists: the pod's service account.
    const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
    if (!context && host != nullptr && *host != '\0') return {{"in_cluster", "true"}};
    throw Failure(kConfig,
                  "no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, or use --in-cluster");
  }
  ConfigMap settings{{"kubeconfig", path}};
  if (context) settings["context"] = *context;
  return settings;
}

Resolved resolve(ConfigMap settings) {
  // The scope does not matter to a single GET, but resolve_config() wants
  // one; "*" is always valid.
  if (!settings.count("namespaces") && !settings.count("namespace")) settings["namespaces"] = "*";
  auto resolved = resolve_config(settings);
  if (auto* error = std::get_if<std::string>(&resolved)) throw Failure(kConfig, *error);
  EngineConfig& config = std::get<EngineConfig>(resolved);
  Resolved out;
  out.connection = config.connection;
  out.watch = config.watch;
  if (settings.count("kubeconfig")) {
    out.description = "kubeconfig " + settings["kubeconfig"] +
                      (settings.count("context") ? " (context " + settings["context"] + ")" : "");
  } else {
    out.description = "in-cluster service account";
  }
  return out;
}

void check_namespace(const std::string& value, const std::string& what) {
  bool ok = !value.empty() && value.size() <= 63 && value.front() != '-' && value.back() != '-';
  for (char c : value) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok) throw UsageError(what + " \"" + value + "\" is not a valid namespace name");
}

void check_object_name(const std::string& value, const std::string& what) {
  bool ok = !value.empty() && value.size() <= 253 && value.front() != '.' && value.front() != '-';
  for (char c : value) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
  if (!ok) throw UsageError(what + " \"" + value + "\" is not a valid Secret name");
}

}  // namespace certsync::cli
