#include "kube/credentials.h"

#include <openssl/crypto.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace certsync::kube {

std::optional<SecretBytes> read_token_file(const std::string& path, std::string* error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    *error = "token file " + path + " cannot be read: " + std::strerror(errno);
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
    *error = "token file " + path + " is empty";
    return std::nullopt;
  }
  return token;
}

std::optional<SecretBytes> current_token(const ConnectionConfig& connection, std::string* error) {
  if (!connection.token_file.empty()) return read_token_file(connection.token_file, error);
  return connection.token;
}

}  // namespace certsync::kube
