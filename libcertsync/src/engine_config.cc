#include "engine_config.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include "kube/in_cluster.h"
#include "kube/kubeconfig.h"

namespace certsync {

namespace {

const std::set<std::string>& explicit_keys() {
  static const std::set<std::string> keys = {"server", "ca_file", "token_file", "client_cert_file",
                                             "client_key_file", "tls_server_name", "insecure_skip_tls_verify"};
  return keys;
}

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = [] {
    std::set<std::string> k = explicit_keys();
    k.insert({"in_cluster", "in_cluster_host", "in_cluster_port", "service_account_dir", "kubeconfig", "context",
              "namespace", "namespaces", "label_selector", "secret_names", "secret_types", "deletion_policy",
              "max_event_bytes", "idle_timeout_seconds", "list_page_size", "clock_skew_seconds", "cn_fallback",
              "verify_chain", "reorder_chain", "complete_chain", "server_names_annotation", "notify_socket",
              "cert_manager"});
    return k;
  }();
  return keys;
}

std::optional<unsigned long long> parse_number(const std::string& value) {
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos || value.size() > 12)
    return std::nullopt;
  return std::strtoull(value.c_str(), nullptr, 10);
}

std::optional<std::string> check_range(const std::string& key, const std::string& value, unsigned long long min,
                                       unsigned long long max, const char* unit) {
  auto n = parse_number(value);
  if (!n || *n < min || *n > max)
    return key + " must be a number of " + unit + " from " + std::to_string(min) + " to " + std::to_string(max) +
           " (got \"" + value + "\")";
  return std::nullopt;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

// DNS-1123 label: what a namespace name must be.
bool valid_namespace(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return name.front() != '-' && name.back() != '-';
}

// DNS-1123 subdomain: what a Secret name must be.
bool valid_object_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  return true;
}

// What a Secret type may be here: it goes into a field selector, where ",",
// "=", "!" and "\\" are syntax, and the API server's own types are
// printable words (kubernetes.io/tls, Opaque, helm.sh/release.v1).
bool valid_secret_type(const std::string& type) {
  if (type.empty() || type.size() > 253) return false;
  for (unsigned char c : type)
    if (c <= ' ' || c >= 127 || c == ',' || c == '=' || c == '!' || c == '\\') return false;
  return true;
}

// secret_types: the default is what cert-manager and kubectl create; "*"
// alone means every type, with no type selector (one stream, as before
// the setting existed). Returns the types, "" standing for every type.
std::variant<std::vector<std::string>, std::string> secret_types_from(const ConfigMap& settings) {
  auto it = settings.find("secret_types");
  if (it == settings.end()) return std::vector<std::string>{kDefaultTlsSecretType};
  const auto listed = split_list(it->second);
  if (listed.empty()) return std::string("secret_types must name at least one type (or \"*\" for every type)");
  if (listed.size() == 1 && listed[0] == "*") return std::vector<std::string>{""};
  std::vector<std::string> types;
  for (const auto& type : listed) {
    if (type == "*") return std::string("secret_types: \"*\" means every type and must stand alone");
    if (!valid_secret_type(type))
      return "secret_types: \"" + type +
             "\" is not a Secret type (printable, no spaces, no ',', '=', '!' or '\\', at most 253 bytes)";
    if (std::find(types.begin(), types.end(), type) == types.end()) types.push_back(type);
  }
  return types;
}

// One scope per type for each place watched: field selectors cannot OR.
std::vector<kube::Scope> per_type(const std::vector<kube::Scope>& places, const std::vector<std::string>& types) {
  std::vector<kube::Scope> scopes;
  for (const auto& place : places) {
    for (const auto& type : types) {
      kube::Scope scope = place;
      scope.secret_type = type;
      scopes.push_back(std::move(scope));
    }
  }
  return scopes;
}

std::optional<std::string> readable(const std::string& key, const std::string& path) {
  std::ifstream file(path);
  if (!file) return key + " " + path + " cannot be read: " + std::strerror(errno);
  return std::nullopt;
}

std::string get(const ConfigMap& settings, const char* key) {
  auto it = settings.find(key);
  return it == settings.end() ? std::string() : it->second;
}

kube::ConnectionResult explicit_connection(const ConfigMap& settings) {
  kube::ConnectionConfig c;
  c.server = get(settings, "server");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  if (c.server.empty()) return std::string("server is required (or in_cluster=true, or kubeconfig=PATH)");
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0)
    return "server must be an https:// URL (got \"" + c.server + "\")";
  c.ca_file = get(settings, "ca_file");
  c.token_file = get(settings, "token_file");
  c.client_cert_file = get(settings, "client_cert_file");
  c.client_key_file = get(settings, "client_key_file");
  c.tls_server_name = get(settings, "tls_server_name");
  c.insecure_skip_tls_verify = get(settings, "insecure_skip_tls_verify") == "true";
  if (c.client_cert_file.empty() != c.client_key_file.empty())
    return std::string("client_cert_file and client_key_file go together: set both or neither");
  for (const auto& [key, path] : {std::pair<const char*, std::string>{"ca_file", c.ca_file},
                                  {"token_file", c.token_file},
                                  {"client_cert_file", c.client_cert_file},
                                  {"client_key_file", c.client_key_file}}) {
    if (!path.empty())
      if (auto error = readable(key, path)) return *error;
  }
  return c;
}

kube::ConnectionResult connection_from(const ConfigMap& settings) {
  const bool in_cluster = get(settings, "in_cluster") == "true";
  const bool kubeconfig = !get(settings, "kubeconfig").empty();
  bool explicit_given = false;
  for (const auto& key : explicit_keys()) explicit_given |= settings.count(key) > 0 && key != "insecure_skip_tls_verify";
  if (int(in_cluster) + int(kubeconfig) + int(explicit_given) > 1)
    return std::string("choose one connection source: server (explicit), in_cluster=true, or kubeconfig=PATH");
  if (kubeconfig) return kube::load_kubeconfig(get(settings, "kubeconfig"), get(settings, "context"));
  if (in_cluster) {
    auto [host, port] = kube::in_cluster_host_port_from_environment();
    if (!get(settings, "in_cluster_host").empty()) host = get(settings, "in_cluster_host");
    if (!get(settings, "in_cluster_port").empty()) port = get(settings, "in_cluster_port");
    const std::string dir = get(settings, "service_account_dir");
    return dir.empty() ? kube::load_in_cluster(host, port) : kube::load_in_cluster(host, port, dir);
  }
  return explicit_connection(settings);
}

std::variant<std::vector<kube::Scope>, std::string> scopes_from(const ConfigMap& settings,
                                                                 const std::string& default_namespace) {
  std::vector<std::string> namespaces = split_list(get(settings, "namespaces"));
  if (!get(settings, "namespace").empty()) {
    if (!namespaces.empty()) return std::string("set namespace or namespaces, not both");
    namespaces = split_list(get(settings, "namespace"));
  }
  if (namespaces.empty() && !default_namespace.empty()) namespaces.push_back(default_namespace);
  if (namespaces.empty())
    return std::string("namespaces is required: the connection source names no namespace (use \"*\" for all)");
  const bool all = namespaces.size() == 1 && namespaces[0] == "*";
  if (!all) {
    for (const auto& ns : namespaces)
      if (!valid_namespace(ns))
        return "namespaces: \"" + ns + "\" is not a valid namespace name (\"*\" alone means all namespaces)";
  }
  const std::string labels = get(settings, "label_selector");
  std::vector<kube::Scope> scopes;
  const auto names = split_list(get(settings, "secret_names"));
  for (const auto& entry : names) {
    kube::Scope scope;
    scope.label_selector = labels;
    const size_t slash = entry.find('/');
    if (slash != std::string::npos) {
      scope.namespace_name = entry.substr(0, slash);
      scope.secret_name = entry.substr(slash + 1);
    } else if (!all && namespaces.size() == 1) {
      scope.namespace_name = namespaces[0];
      scope.secret_name = entry;
    } else {
      return "secret_names: \"" + entry + "\" needs its namespace (\"namespace/name\") when " +
             (all ? "all namespaces are" : "several namespaces are") + " configured";
    }
    if (!valid_namespace(scope.namespace_name) || !valid_object_name(scope.secret_name))
      return "secret_names: \"" + entry + "\" is not a valid namespace/name";
    scopes.push_back(std::move(scope));
  }
  if (!names.empty()) return scopes;
  // The places only: per_type() gives each its types.
  if (all) {
    scopes.push_back(kube::Scope{"", "", labels, ""});
  } else {
    std::set<std::string> unique(namespaces.begin(), namespaces.end());
    for (const auto& ns : unique) scopes.push_back(kube::Scope{ns, "", labels, ""});
  }
  return scopes;
}

}  // namespace

std::optional<std::string> check_config_entry(const std::string& key, const std::string& value) {
  if (known_keys().count(key) == 0) return "unknown configuration key \"" + key + "\"";
  if (key == "deletion_policy" && value != "keep" && value != "remove")
    return "deletion_policy must be \"keep\" or \"remove\" (got \"" + value + "\")";
  if ((key == "insecure_skip_tls_verify" || key == "in_cluster" || key == "cn_fallback" || key == "verify_chain" ||
       key == "reorder_chain" || key == "complete_chain") &&
      value != "true" && value != "false")
    return key + " must be \"true\" or \"false\" (got \"" + value + "\")";
  if (key == "max_event_bytes") return check_range(key, value, 1024, 64ull << 20, "bytes");
  if (key == "idle_timeout_seconds") return check_range(key, value, 2, 3600, "seconds");
  if (key == "list_page_size") return check_range(key, value, 1, 5000, "items");
  if (key == "clock_skew_seconds") return check_range(key, value, 0, 86400, "seconds");
  if (key == "secret_types") {
    auto types = secret_types_from({{key, value}});
    if (auto* error = std::get_if<std::string>(&types)) return *error;
  }
  if (key == "cert_manager" && value != "auto" && value != "off")
    return "cert_manager must be \"auto\" or \"off\" (got \"" + value + "\")";
  if (key == "server_names_annotation" && value != "honour" && value != "ignore")
    return "server_names_annotation must be \"honour\" or \"ignore\" (got \"" + value + "\")";
  return std::nullopt;
}

std::vector<std::string> certificate_namespaces(const std::vector<kube::Scope>& scopes) {
  std::vector<std::string> out;
  for (const auto& scope : scopes) {
    if (scope.namespace_name.empty()) return {""};
    if (std::find(out.begin(), out.end(), scope.namespace_name) == out.end()) out.push_back(scope.namespace_name);
  }
  return out;
}

std::variant<EngineConfig, std::string> resolve_config(const ConfigMap& settings) {
  for (const auto& [key, value] : settings) {
    if (auto error = check_config_entry(key, value)) return *error;
  }
  EngineConfig config;
  auto connection = connection_from(settings);
  if (auto* error = std::get_if<std::string>(&connection)) return *error;
  auto resolved = std::make_shared<kube::ConnectionConfig>(std::move(std::get<kube::ConnectionConfig>(connection)));
  if (resolved->ca_file.empty() && resolved->ca_pem.empty() && !resolved->insecure_skip_tls_verify &&
      resolved->server.rfind("https://", 0) == 0 && settings.count("server"))
    return std::string("ca_file is required to verify the API server (or insecure_skip_tls_verify=true)");
  auto scopes = scopes_from(settings, resolved->default_namespace);
  if (auto* error = std::get_if<std::string>(&scopes)) return *error;
  auto types = secret_types_from(settings);
  if (auto* error = std::get_if<std::string>(&types)) return *error;
  config.scopes = per_type(std::get<std::vector<kube::Scope>>(scopes), std::get<std::vector<std::string>>(types));
  config.connection = std::move(resolved);
  if (settings.count("max_event_bytes")) config.watch.max_event_bytes = std::stoull(settings.at("max_event_bytes"));
  if (settings.count("idle_timeout_seconds"))
    config.watch.idle_timeout_s = std::stol(settings.at("idle_timeout_seconds"));
  if (settings.count("list_page_size")) config.watch.list_page_size = std::stoi(settings.at("list_page_size"));
  auto& validation = config.watch.validation;
  if (settings.count("clock_skew_seconds")) validation.clock_skew_seconds = std::stoll(settings.at("clock_skew_seconds"));
  validation.cn_fallback = get(settings, "cn_fallback") == "true";
  validation.verify_chain = get(settings, "verify_chain") == "true";
  validation.reorder_chain = get(settings, "reorder_chain") == "true";
  validation.complete_chain = get(settings, "complete_chain") == "true";
  config.watch.honour_server_names_annotation = get(settings, "server_names_annotation") != "ignore";
  config.deletion_policy =
      get(settings, "deletion_policy") == "remove" ? store::DeletionPolicy::kRemove : store::DeletionPolicy::kKeep;
  config.notify_socket = get(settings, "notify_socket");
  config.cert_manager = get(settings, "cert_manager") != "off";
  return config;
}

}  // namespace certsync
