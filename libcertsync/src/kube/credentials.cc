#include "kube/credentials.h"

#include <cerrno>

#include "kube/config_files.h"

namespace certsync::kube {

namespace {

// A bound-service-account token is a JWT of about a kilobyte; anything near
// this size is not a token, and reading it whole on every request would hurt.
constexpr size_t kMaxTokenFileBytes = 64 * 1024;

}  // namespace

std::optional<SecretBytes> read_token_file(const std::string& path, std::string* error) {
  // The watcher thread calls this before every request: read_file_bounded and
  // errno_text are thread-safe (strerror is not) and cleanse what they drop.
  std::string text;
  if (const int err = read_file_bounded(path, kMaxTokenFileBytes, text)) {
    *error = "token file " + path + " cannot be read: " +
             (err == EFBIG ? "larger than " + std::to_string(kMaxTokenFileBytes) + " bytes, not a token"
                           : errno_text(err));
    return std::nullopt;
  }
  size_t end = text.size();
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' ' ||
                     text[end - 1] == '\t'))
    --end;
  SecretBytes token(std::string_view(text).substr(0, end));
  cleanse_string(text);
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
