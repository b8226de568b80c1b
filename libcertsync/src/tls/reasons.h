// Reason codes of a refused bundle (Refusal::code).
//
// These strings are a stable interface: tests, logs, status output and
// metrics key on them. Add new codes freely; never rename or reuse one.
#pragma once

#include <string_view>

namespace certsync::tls::reason {

// tls.crt is absent, empty or only whitespace.
inline constexpr std::string_view kCertMissing = "cert_missing";
// tls.key is absent, empty or only whitespace.
inline constexpr std::string_view kKeyMissing = "key_missing";
// tls.crt or tls.key is larger than the size limit (1 MiB each).
inline constexpr std::string_view kTooLarge = "too_large";
// tls.crt has no PEM block, a malformed one, or one that is not a valid X.509 certificate.
inline constexpr std::string_view kCertParseError = "cert_parse_error";
// tls.crt holds a PEM block other than CERTIFICATE (a key, a CSR, ...).
inline constexpr std::string_view kCertUnexpectedBlock = "cert_unexpected_block";
// tls.key has no PEM block, a malformed PEM block, or a key block that does not decode.
inline constexpr std::string_view kKeyParseError = "key_parse_error";
// tls.key holds a PEM block that is not a private key (a certificate, ...).
inline constexpr std::string_view kKeyUnexpectedBlock = "key_unexpected_block";
// tls.key holds more than one private key block.
inline constexpr std::string_view kKeyMultiple = "key_multiple";
// tls.key is encrypted (ENCRYPTED PRIVATE KEY or Proc-Type: 4,ENCRYPTED); never decrypted.
inline constexpr std::string_view kKeyEncrypted = "key_encrypted";
// tls.key holds a key type certsync does not serve (only RSA, EC, Ed25519, Ed448).
inline constexpr std::string_view kKeyUnsupported = "key_unsupported";
// tls.key is not the private key of the leaf certificate (the first one in tls.crt).
inline constexpr std::string_view kKeyMismatch = "key_mismatch";
// tls.key has the leaf's public key but a corrupt private part (sign/verify self-test failed).
inline constexpr std::string_view kKeyInvalid = "key_invalid";
// A certificate in tls.crt is not issued by the certificate that follows it.
inline constexpr std::string_view kChainOrder = "chain_order";
// The leaf has no DNS subjectAltName usable as an SNI.
inline constexpr std::string_view kNoUsableName = "no_usable_name";
// An unexpected failure inside the validator (out of memory, OpenSSL internal error).
inline constexpr std::string_view kInternalError = "internal_error";

}  // namespace certsync::tls::reason
