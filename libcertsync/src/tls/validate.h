// Validation of a TLS bundle (tls.crt + tls.key) before it may be served.
//
// validate_bundle() is the gate between whatever lands in a Secret and every
// TLS handshake of the node: it either returns a bundle that is safe to serve
// or a Refusal with a stable reason code and a message for humans. Messages
// name what is wrong and never contain key material. Thread-safe; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/secret_bytes.h"

namespace certsync::tls {

struct ValidationOptions {
  // The clock used for validity checks, Unix seconds; 0 means "now".
  int64_t now = 0;
  // Largest accepted tls.crt and tls.key, each, in bytes (reason too_large).
  size_t max_input_bytes = 1024 * 1024;
};

// A bundle that passed every check. cert_pem and key_pem are normalised
// (LF line endings, only the PEM blocks, leaf first).
struct ValidBundle {
  std::string cert_pem;
  SecretBytes key_pem;
  std::vector<std::string> snis;      // DNS SANs of the leaf, lowercased, no trailing dot
  std::string serial_hex;             // uppercase hex, no separators
  std::string fingerprint_sha256;     // lowercase hex of the leaf's DER
  std::string subject;                // leaf subject, RFC 2253
  std::string issuer;                 // leaf issuer, RFC 2253
  int64_t not_before = 0;             // Unix seconds
  int64_t not_after = 0;
  std::string key_type;               // e.g. "RSA-2048", "EC-P-256", "ED25519"
  int chain_length = 0;               // certificates in tls.crt, leaf included
  bool expired = false;               // notAfter already past
  bool not_yet_valid = false;         // notBefore still in the future
  // DNS SANs of the leaf that cannot be used as an SNI (bad wildcard, bad
  // characters), as found, with bytes outside printable ASCII shown as \xHH.
  std::vector<std::string> ignored_names;
};

// Why a bundle was refused. `code` is a stable snake_case identifier that
// tests, logs and metrics key on (the codes are listed in tls/reasons.h);
// `message` says what was wrong in words.
struct Refusal {
  std::string code;
  std::string message;
};

using ValidationResult = std::variant<ValidBundle, Refusal>;

ValidationResult validate_bundle(std::string_view cert_pem, std::string_view key_pem,
                                 const ValidationOptions& options = {});

}  // namespace certsync::tls
