// Base64 as the API server uses it: standard alphabet with padding for Secret
// `data` (Go's []byte in JSON), and the raw URL-safe alphabet for list
// `continue` tokens.
#pragma once

#include <optional>
#include <string>

namespace kube_test {

std::string base64_encode(const std::string &bytes);
std::string base64_url_encode_raw(const std::string &bytes);

// Strict standard base64 (padding required, as Go's encoding/json demands);
// nullopt on any invalid input.
std::optional<std::string> base64_decode(const std::string &text);

// Accepts both alphabets, with or without padding: for tokens we minted.
std::optional<std::string> base64_decode_lenient(const std::string &text);

}  // namespace kube_test
