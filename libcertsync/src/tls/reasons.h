// Reason codes of a refused bundle (Refusal::code).
//
// These strings are a stable interface: tests, logs, status output and
// metrics key on them. Add new codes freely; never rename or reuse one.
#pragma once

#include <array>
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
// The leaf has an extendedKeyUsage extension without serverAuth (or anyExtendedKeyUsage).
inline constexpr std::string_view kEkuNotServerAuth = "eku_not_server_auth";
// The leaf's public key is RSA with fewer than 2048 bits.
inline constexpr std::string_view kRsaKeyTooSmall = "rsa_key_too_small";
// The leaf is signed with a broken digest (MD2, MD4, MD5, MDC2, SHA-1).
inline constexpr std::string_view kWeakSignature = "weak_signature";
// A name of ValidationOptions::sni_override is not a valid host name or wildcard.
inline constexpr std::string_view kSniOverrideInvalid = "sni_override_invalid";
// A name of ValidationOptions::sni_override is not covered by the leaf's names.
inline constexpr std::string_view kSniOverrideNotCovered = "sni_override_not_covered";
// ca.crt (verify_chain on) has no certificate, a malformed PEM block or a non-certificate block.
inline constexpr std::string_view kCaParseError = "ca_parse_error";
// verify_chain on: the leaf does not verify up to a certificate of ca.crt as a TLS server.
inline constexpr std::string_view kChainUntrusted = "chain_untrusted";
// An unexpected failure inside the validator (out of memory, OpenSSL internal error).
inline constexpr std::string_view kInternalError = "internal_error";

// Every code above, for tests and fuzz targets that check a code is a known one.
inline constexpr std::array<std::string_view, 22> kAll = {kCertMissing,
                                                          kKeyMissing,
                                                          kTooLarge,
                                                          kCertParseError,
                                                          kCertUnexpectedBlock,
                                                          kKeyParseError,
                                                          kKeyUnexpectedBlock,
                                                          kKeyMultiple,
                                                          kKeyEncrypted,
                                                          kKeyUnsupported,
                                                          kKeyMismatch,
                                                          kKeyInvalid,
                                                          kChainOrder,
                                                          kNoUsableName,
                                                          kEkuNotServerAuth,
                                                          kRsaKeyTooSmall,
                                                          kWeakSignature,
                                                          kSniOverrideInvalid,
                                                          kSniOverrideNotCovered,
                                                          kCaParseError,
                                                          kChainUntrusted,
                                                          kInternalError};

inline bool is_known(std::string_view code) {
  for (std::string_view known : kAll) {
    if (known == code) return true;
  }
  return false;
}

}  // namespace certsync::tls::reason
