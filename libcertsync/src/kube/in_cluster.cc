#include "kube/in_cluster.h"

#include <cerrno>
#include <cstdlib>
#include <new>

#include "kube/config_files.h"

namespace certsync::kube {

namespace {

constexpr const char* kPrefix = "in-cluster configuration: ";
// A namespace name is at most 63 bytes; anything near this bound is not one.
constexpr size_t kMaxNamespaceFileBytes = 4096;

std::string missing_environment_error(bool host_missing, bool port_missing) {
  std::string names;
  if (host_missing) names = "KUBERNETES_SERVICE_HOST";
  if (host_missing && port_missing) names += " and ";
  if (port_missing) names += "KUBERNETES_SERVICE_PORT";
  const bool both = host_missing && port_missing;
  return std::string(kPrefix) + names + (both ? " are" : " is") +
         " not set. Kubernetes sets both in every pod, but nginx workers lose the environment "
         "unless it is passed explicitly (read it in the master, before the fork) or declared "
         "with `env KUBERNETES_SERVICE_HOST; env KUBERNETES_SERVICE_PORT;` in nginx.conf "
         "(Kong: the one kong.conf line "
         "`nginx_main_env = KUBERNETES_SERVICE_HOST; env KUBERNETES_SERVICE_PORT`)";
}

bool is_port(const std::string& port) {
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

// The host part of the URL: IPv6 literals get brackets (once); characters
// that would change the URL's structure are refused.
bool url_host(const std::string& host, std::string& out) {
  for (const char c : host) {
    if (c == '/' || c == '?' || c == '#' || c == '@' || c == ' ' || static_cast<unsigned char>(c) < 0x20 ||
        c == 0x7f)
      return false;
  }
  const bool bracketed = host.front() == '[';
  if (bracketed) {
    if (host.size() < 3 || host.back() != ']') return false;
    out = host;
    return true;
  }
  if (host.find(']') != std::string::npos) return false;
  if (host.find(':') == std::string::npos) {
    out = host;
    return true;
  }
  // An IPv6 literal; a zone ("fe80::1%eth0") is written %25 in a URL (RFC 6874).
  out = "[";
  for (const char c : host) out += c == '%' ? std::string("%25") : std::string(1, c);
  out += "]";
  return true;
}

std::string join(const std::string& dir, const char* name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string trim(const std::string& text) {
  const char* space = " \t\r\n\v\f";
  const size_t first = text.find_first_not_of(space);
  if (first == std::string::npos) return "";
  const size_t last = text.find_last_not_of(space);
  return text.substr(first, last - first + 1);
}

ConnectionResult load(const std::string& host, const std::string& port, const std::string& dir) {
  if (host.empty() || port.empty()) return missing_environment_error(host.empty(), port.empty());

  std::string host_part;
  if (!url_host(host, host_part))
    return std::string(kPrefix) + "KUBERNETES_SERVICE_HOST \"" + host + "\" is not a host name or IP address";
  if (!is_port(port))
    return std::string(kPrefix) + "KUBERNETES_SERVICE_PORT \"" + port + "\" is not a port number (1-65535)";

  ConnectionConfig config;
  config.server = "https://" + host_part + ":" + port;

  const char* hint =
      " (is a service account token mounted? `automountServiceAccountToken: false` leaves it out)";
  config.ca_file = join(dir, "ca.crt");
  if (const int err = check_readable(config.ca_file))
    return std::string(kPrefix) + "cannot read the service account CA file " + config.ca_file + ": " +
           errno_text(err) + hint;
  config.token_file = join(dir, "token");
  if (const int err = check_readable(config.token_file))
    return std::string(kPrefix) + "cannot read the service account token file " + config.token_file + ": " +
           errno_text(err) + hint;

  const std::string namespace_file = join(dir, "namespace");
  std::string content;
  const int err = read_file_bounded(namespace_file, kMaxNamespaceFileBytes, content);
  if (err == 0) {
    config.default_namespace = trim(content);
  } else if (err != ENOENT) {
    return std::string(kPrefix) + "cannot read the service account namespace file " + namespace_file + ": " +
           errno_text(err);
  }
  return config;
}

}  // namespace

std::pair<std::string, std::string> in_cluster_host_port_from_environment() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  return {host != nullptr ? host : "", port != nullptr ? port : ""};
}

ConnectionResult load_in_cluster(const std::string& host, const std::string& port,
                                 const std::string& service_account_dir) noexcept {
  try {
    return load(host, port, service_account_dir);
  } catch (const std::bad_alloc&) {
    return std::string("out of memory");  // short enough not to allocate
  } catch (const std::exception& e) {
    try {
      return std::string(kPrefix) + e.what();
    } catch (...) {
      return std::string("out of memory");
    }
  } catch (...) {
    try {
      return std::string(kPrefix) + "unexpected error";
    } catch (...) {
      return std::string("out of memory");
    }
  }
}

}  // namespace certsync::kube
