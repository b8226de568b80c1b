// Strict standard base64 (RFC 4648 with padding), as the Kubernetes API
// encodes Secret data. Decoding refuses anything else rather than guessing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace certsync {

// Returns nullopt when `text` is not valid padded base64.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace certsync
