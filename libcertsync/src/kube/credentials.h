// Reading bearer tokens. Projected service-account tokens rotate (about
// hourly), so the token file is read again for every request rather than
// once: a request never carries a token older than the file.
#pragma once

#include <optional>
#include <string>

#include "kube/connection_config.h"
#include "util/secret_bytes.h"

namespace certsync::kube {

// Reads a token file (trailing whitespace dropped). nullopt and *error set
// when it cannot be read or is empty; the error never contains the token.
std::optional<SecretBytes> read_token_file(const std::string& path, std::string* error);

// The token to send now: the token file's content, else the inline token,
// else empty (no Authorization header).
std::optional<SecretBytes> current_token(const ConnectionConfig& connection, std::string* error);

}  // namespace certsync::kube
