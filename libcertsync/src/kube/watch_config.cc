#include "kube/watch_config.h"

#include <openssl/crypto.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace certsync::kube {

namespace {

bool readable(const std::string& path, std::string* error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    *error = std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> check_watch_config(const WatchConfig& config) {
  if (config.server.empty()) return "server is required (the API server URL)";
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0)
    return "server must start with https:// (got \"" + config.server + "\")";
  if (config.namespace_name.empty()) return "namespace is required";
  std::string error;
  if (config.ca_file.empty() && !config.insecure_skip_tls_verify && config.server.rfind("https://", 0) == 0)
    return "ca_file is required to verify the API server (or set insecure_skip_tls_verify)";
  if (!config.ca_file.empty() && !readable(config.ca_file, &error))
    return "ca_file " + config.ca_file + " cannot be read: " + error;
  if (!config.token_file.empty() && !read_token_file(config.token_file, &error))
    return "token_file " + config.token_file + ": " + error;
  return std::nullopt;
}

std::optional<SecretBytes> read_token_file(const std::string& path, std::string* error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    *error = std::string("cannot be read: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  size_t end = text.size();
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' ' ||
                     text[end - 1] == '\t'))
    --end;
  SecretBytes token(std::string_view(text).substr(0, end));
  OPENSSL_cleanse(text.data(), text.size());
  if (token.empty()) {
    *error = "is empty";
    return std::nullopt;
  }
  return token;
}

}  // namespace certsync::kube
