// CertFacts: the public facts of a certificate someone else chose (the leaf a
// server presented, the leaf of a published bundle), in the validator's
// formats, so they compare directly with a ValidBundle's: serial in uppercase
// hex, SHA-256 of the DER in lowercase hex, names in RFC 2253.
#pragma once

#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certsync::cli {

struct CertFacts {
  std::string serial_hex;
  std::string fingerprint_sha256;
  std::string subject;
  std::string issuer;
  std::vector<std::string> dns_names;     // DNS SANs as written
  std::vector<std::string> ip_addresses;  // IP SANs as text
  int64_t not_before = 0;
  int64_t not_after = 0;
  std::string key_type;  // "RSA-2048", "EC-P-256", "ED25519"... as the validator names them
};

CertFacts facts_of(X509* cert);
// The first CERTIFICATE block of `pem`; nullopt when there is none.
std::optional<CertFacts> first_certificate_facts(std::string_view pem);

nlohmann::json facts_json(const CertFacts& facts);

}  // namespace certsync::cli
