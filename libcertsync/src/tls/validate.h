// Validation of a TLS bundle (tls.crt + tls.key) before it may be served.
//
// validate_bundle() is the gate between whatever lands in a Secret and every
// TLS handshake of the node: it either returns a bundle that is safe to serve
// or a Refusal with a stable reason code and a message for humans. Messages
// name what is wrong and never contain key material. Thread-safe; no I/O.
//
// The checks run in a fixed order and the first failing one gives the code:
// sizes, presence; then tls.crt alone (PEM and X.509 parsing, chain order or
// re-sorting, names and the SNI override, the leaf's extendedKeyUsage,
// signature digest and RSA key size, chain verification to ca.crt); then
// tls.key (parsing, type) and the pair (public key match, a signature
// self-test). A refusal for tls.crt therefore never depends on tls.key.
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
  // Largest accepted tls.crt, tls.key and ca.crt, each, in bytes (reason too_large).
  size_t max_input_bytes = 1024 * 1024;
  // A leaf whose notBefore is at most this far in the future counts as valid
  // now; beyond it the bundle is flagged not_yet_valid. Negative counts as 0.
  int64_t clock_skew_seconds = 300;
  // Use the subject CN as the SNI when the leaf has no subjectAltName at all.
  bool cn_fallback = false;

  // Per Secret (the watcher fills it from the kube::kServerNamesAnnotation
  // annotation). When non-empty, the served SNIs are exactly these names
  // (normalised like SANs); each must be a valid host name or wildcard
  // (sni_override_invalid) covered by a name of the leaf: the same name, or a
  // wildcard SAN standing for exactly its first label (sni_override_not_covered).
  std::vector<std::string> sni_override;
  // Per Secret: the Secret carries kube::kTemporaryCertificateAnnotation:
  // "true". The bundle is then flagged temporary whatever its issuer.
  bool temporary_certificate_annotation = false;

  // Verify the leaf up to a certificate of ca.crt (as a TLS server, at `now`;
  // the leaf's own validity dates are left to the expired / not_yet_valid
  // flags). Intermediates come from the rest of tls.crt. A non-self-signed
  // certificate in ca.crt is a trust anchor too (partial chain). Without
  // ca.crt (empty or blank ca_pem) there is nothing to check and the bundle is
  // not refused for it. ca_pem is ignored when verify_chain is off.
  bool verify_chain = false;
  // Per Secret: the decoded ca.crt. A view: it must outlive the call.
  std::string_view ca_pem;
  // Re-sort a tls.crt whose certificates are all one chain but out of order
  // (flagged chain_reordered) instead of refusing it with chain_order.
  bool reorder_chain = false;
  // Append to a chain flagged chain_incomplete the intermediates ca.crt holds
  // (never a root), and serve it complete (chain_completed counts them).
  bool complete_chain = false;
};

// A bundle that passed every check. cert_pem and key_pem are normalised
// (LF line endings, only the PEM blocks, leaf first).
struct ValidBundle {
  std::string cert_pem;
  SecretBytes key_pem;
  // The served names, lowercased, no trailing dot: the leaf's DNS SANs (or
  // its CN with cn_fallback, or the sni_override list).
  std::vector<std::string> snis;
  std::vector<std::string> ip_addresses;  // IP SANs of the leaf, as text; never used as SNIs
  std::string serial_hex;                 // uppercase hex, no separators
  std::string fingerprint_sha256;         // lowercase hex of the leaf's DER
  std::string subject;                    // leaf subject, RFC 2253
  std::string issuer;                     // leaf issuer, RFC 2253
  int64_t not_before = 0;                 // Unix seconds
  int64_t not_after = 0;
  std::string key_type;  // e.g. "RSA-2048", "EC-P-256", "ED25519"
  int chain_length = 0;  // certificates in tls.crt, leaf included
  bool expired = false;  // notAfter already past
  // notBefore is more than clock_skew_seconds in the future: do not serve it
  // before deferred_until (= not_before - clock skew; 0 when not flagged).
  bool not_yet_valid = false;
  int64_t deferred_until = 0;
  // A placeholder: issued by cert-manager's throwaway CA "cert-manager.local",
  // or the Secret is annotated as holding one. It must never replace a real
  // certificate that is still valid.
  bool temporary = false;
  bool chain_reordered = false;  // reorder_chain re-sorted tls.crt
  // tls.crt lacks an issuer clients need (see tls/chain_completion.h): served,
  // but clients that do not have it cached fail to verify.
  bool chain_incomplete = false;
  std::string chain_missing_issuer;  // that issuer's subject, RFC 2253; empty when complete
  int chain_completable = 0;         // intermediates of ca.crt complete_chain would append
  int chain_completed = 0;           // intermediates complete_chain appended from ca.crt
  // Names of the leaf that cannot be used as an SNI (bad wildcard, bad
  // characters, an IP SAN of the wrong length), as found, with bytes outside
  // printable ASCII shown as \xHH.
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

// What a bundle's chain_* fields mean, in words for the log and the CLI: ""
// when the chain is complete as tls.crt gave it.
std::string describe_chain(const ValidBundle& bundle);

}  // namespace certsync::tls
