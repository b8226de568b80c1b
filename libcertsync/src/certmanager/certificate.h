// Certificate: the parts of a cert-manager Certificate (cert-manager.io/v1)
// that tell whether its Secret holds what cert-manager meant to issue, as
// cert-manager's controllers write them: spec.secretName, the Ready and
// Issuing conditions, status.notBefore/notAfter/renewalTime/revision,
// lastFailureTime and failedIssuanceAttempts.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace certsync::certmanager {

struct Condition {
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  int64_t last_transition_time = 0;  // Unix seconds, 0 when absent
};

struct Certificate {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::string secret_name;  // spec.secretName, in the Certificate's namespace
  std::string issuer;       // spec.issuerRef as "Kind/name" (kind defaults to Issuer)
  std::optional<Condition> ready;    // status.conditions[type=Ready]
  std::optional<Condition> issuing;  // status.conditions[type=Issuing]
  // status times, Unix seconds; 0 when cert-manager has not set them.
  int64_t not_before = 0;
  int64_t not_after = 0;
  int64_t renewal_time = 0;
  int64_t last_failure_time = 0;
  int64_t revision = 0;                  // status.revision: issuances so far
  int64_t failed_issuance_attempts = 0;  // status.failedIssuanceAttempts

  std::string id() const { return namespace_name + "/" + name; }
  std::string secret_id() const { return namespace_name + "/" + secret_name; }
};

// Decodes a Certificate object; an error names the field when it is unusable.
std::variant<Certificate, std::string> decode_certificate(const nlohmann::json& object);

// RFC 3339 ("2024-05-01T12:00:00Z", fractions and offsets accepted) to Unix
// seconds; nullopt when it is not one.
std::optional<int64_t> parse_rfc3339(const std::string& text);

// The Certificate as certsync's status shows it (no flags: those need the
// Secret, the workers and the clock, see the plugin's certsync.certificates).
nlohmann::json to_json(const Certificate& certificate);

}  // namespace certsync::certmanager
