// validate_bundle(): parse tls.crt and tls.key, run every check, describe the
// result. Each check is its own function returning either its product or a
// Refusal; validate_checked() runs them in order and stops at the first refusal.
#include "tls/validate.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <algorithm>
#include <ctime>
#include <exception>
#include <new>
#include <optional>
#include <unordered_set>
#include <utility>

#include "tls/cert_cache.h"
#include "tls/chain_completion.h"
#include "tls/key_decoder.h"
#include "tls/ossl_ptr.h"
#include "tls/pem.h"
#include "tls/reasons.h"

namespace certsync::tls {
namespace {

using ossl::BioPtr;
using ossl::PkeyPtr;
using ossl::X509Ptr;

template <typename T>
using Checked = std::variant<T, Refusal>;

template <typename T>
const Refusal* refusal_of(const Checked<T>& checked) {
  return std::get_if<Refusal>(&checked);
}

Refusal refuse(std::string_view code, std::string message) {
  return Refusal{std::string(code), std::move(message)};
}

Refusal internal_error(std::string_view what) {
  return refuse(reason::kInternalError,
                "internal error while validating the bundle: " + std::string(what));
}

// Errors OpenSSL queues while we validate are dropped on the way out, so they
// never surface in unrelated code on this thread; older entries are kept.
class ErrorQueueGuard {
 public:
  ErrorQueueGuard() { ERR_set_mark(); }
  ~ErrorQueueGuard() { ERR_pop_to_mark(); }
  ErrorQueueGuard(const ErrorQueueGuard&) = delete;
  ErrorQueueGuard& operator=(const ErrorQueueGuard&) = delete;
};

// ---------------------------------------------------------------------------
// Text helpers for messages and fields (never used on key bytes)

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  if (length <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(length));
}

std::string clip(std::string text, size_t limit = 200) {
  if (text.size() > limit) {
    text.resize(limit);
    text += "...";
  }
  return text;
}

// Printable ASCII as is, everything else as \xHH.
std::string printable(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : raw) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  return out;
}

std::string hex_lower(const unsigned char* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0x0f];
  }
  return out;
}

std::string name_rfc2253(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr) return {};
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  return bio_contents(bio.get());
}

std::string serial_hex(const X509* cert) {
  ossl::BignumPtr number(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!number) return {};
  ossl::OsslStringPtr hex(BN_bn2hex(number.get()));
  return hex ? std::string(hex.get()) : std::string();
}

// "subject CN=www.example.com, serial 1A2B" for messages.
std::string describe_cert(const X509* cert) {
  std::string subject = name_rfc2253(X509_get_subject_name(cert));
  if (subject.empty()) subject = "(empty)";
  return "subject " + clip(std::move(subject)) + ", serial " + clip(serial_hex(cert), 64);
}

std::string at_line(size_t line) { return "line " + std::to_string(line); }

std::optional<int64_t> unix_seconds(const ASN1_TIME* time) {
  struct tm broken_down {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &broken_down) != 1) return std::nullopt;
  return static_cast<int64_t>(timegm(&broken_down));
}

// ---------------------------------------------------------------------------
// Input checks

std::optional<Refusal> check_sizes(std::string_view cert_text, std::string_view key_text,
                                   size_t limit) {
  auto too_large = [limit](const char* what, size_t size) {
    return refuse(reason::kTooLarge, std::string(what) + " is " + std::to_string(size) +
                                         " bytes; the limit is " + std::to_string(limit) +
                                         " bytes");
  };
  if (cert_text.size() > limit) return too_large("tls.crt", cert_text.size());
  if (key_text.size() > limit) return too_large("tls.key", key_text.size());
  return std::nullopt;
}

std::optional<Refusal> check_present(std::string_view cert_text, std::string_view key_text) {
  if (pem::is_blank(cert_text)) {
    return refuse(reason::kCertMissing, "tls.crt is missing or empty");
  }
  if (pem::is_blank(key_text)) {
    return refuse(reason::kKeyMissing, "tls.key is missing or empty");
  }
  return std::nullopt;
}

// "a PRIVATE KEY block" or "a PEM block" when the label is not plain words.
std::string block_kind(const pem::Block& block) {
  std::string_view label = pem::printable_label(block.label);
  return label.empty() ? std::string("a PEM block with an unusual label")
                       : "a " + std::string(label) + " block";
}

// ---------------------------------------------------------------------------
// tls.crt

// A file of certificates (tls.crt, ca.crt) and the codes its problems get.
struct CertificateFile {
  const char* name;
  std::string_view parse_error;
  std::string_view unexpected_block;
};
constexpr CertificateFile kTlsCrt{"tls.crt", reason::kCertParseError, reason::kCertUnexpectedBlock};
constexpr CertificateFile kCaCrt{"ca.crt", reason::kCaParseError, reason::kCaParseError};

Checked<std::vector<X509Ptr>> parse_certificates(std::string_view text,
                                                 const CertificateFile& file = kTlsCrt) {
  const std::string name = file.name;
  pem::ScanResult scanned = pem::scan(text);
  if (scanned.error != pem::ScanError::kNone) {
    return refuse(file.parse_error, name + " has " + std::string(pem::describe(scanned.error)) +
                                        " (" + at_line(scanned.error_line) + ")");
  }
  if (scanned.blocks.empty()) {
    return refuse(file.parse_error,
                  name + " contains no PEM block (expected -----BEGIN CERTIFICATE-----)");
  }

  std::vector<X509Ptr> chain;
  chain.reserve(scanned.blocks.size());
  for (const pem::Block& block : scanned.blocks) {
    const std::string where = "PEM block " + std::to_string(chain.size() + 1) + " of " + name +
                              " (" + at_line(block.line) + ")";
    if (block.label != "CERTIFICATE") {
      return refuse(file.unexpected_block, name + " contains " + block_kind(block) + " at " +
                                               at_line(block.line) +
                                               "; only CERTIFICATE blocks are allowed");
    }
    if (!block.headers.empty()) {
      return refuse(file.parse_error, where + " has PEM headers; a certificate has none");
    }
    // Every block but a leaf is an issuer other Secrets share.
    const bool issuer = &file != &kTlsCrt || !chain.empty();
    X509Ptr cert = parse_certificate_der(block.der.data(), block.der.size(), issuer);
    if (!cert) {
      return refuse(file.parse_error, where + " is not a valid X.509 certificate");
    }
    if (X509_get0_pubkey(cert.get()) == nullptr) {
      return refuse(file.parse_error, where + " (" + describe_cert(cert.get()) +
                                          ") has a public key that cannot be read");
    }
    chain.push_back(std::move(cert));
  }
  return chain;
}

// ---------------------------------------------------------------------------
// tls.key

enum class KeyBlockKind {
  kPkcs8,
  kPkcs1,
  kSec1,
  kEncryptedPkcs8,
  kUnsupported,
  kIgnored,
  kNotAKey
};

KeyBlockKind classify_key_block(std::string_view label) {
  if (label == "PRIVATE KEY") return KeyBlockKind::kPkcs8;
  if (label == "RSA PRIVATE KEY") return KeyBlockKind::kPkcs1;
  if (label == "EC PRIVATE KEY") return KeyBlockKind::kSec1;
  if (label == "ENCRYPTED PRIVATE KEY") return KeyBlockKind::kEncryptedPkcs8;
  // `openssl ecparam -genkey` writes the curve before the key: public, harmless.
  if (label == "EC PARAMETERS") return KeyBlockKind::kIgnored;
  constexpr std::string_view kKeySuffix = "PRIVATE KEY";
  if (label.size() >= kKeySuffix.size() &&
      label.substr(label.size() - kKeySuffix.size()) == kKeySuffix) {
    return KeyBlockKind::kUnsupported;  // DSA, OPENSSH, ...
  }
  return KeyBlockKind::kNotAKey;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// RFC 1421 encryption: "Proc-Type: 4,ENCRYPTED" and "DEK-Info: AES-128-CBC,...".
bool has_encryption_headers(const pem::Block& block) {
  for (const pem::Header& header : block.headers) {
    if (equals_ignore_case(header.name, "DEK-Info")) return true;
    if (equals_ignore_case(header.name, "Proc-Type") &&
        header.value.find("ENCRYPTED") != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

PkeyPtr decode_pkcs8(const pem::WipedBuffer& der) {
  return decode_private_key_der("PrivateKeyInfo", nullptr, der.data(), der.size());
}

// PKCS#1 / SEC1 DER of the given type.
PkeyPtr decode_traditional(int type, const pem::WipedBuffer& der) {
  PkeyPtr key = decode_private_key_der("type-specific", type == EVP_PKEY_RSA ? "RSA" : "EC", der.data(), der.size());
  if (!key || EVP_PKEY_get_base_id(key.get()) != type) return nullptr;
  return key;
}

// The key, and the PEM text of its block as it came (PKCS#8, PKCS#1 or SEC1:
// OpenSSL's PEM readers, which Kong hands it to, take all three).
// Re-encoding it through OpenSSL 3.0's encoders cost a fifth of validating
// a bundle.
struct ParsedKey {
  PkeyPtr key;
  SecretBytes pem;
};

Checked<ParsedKey> parse_private_key(std::string_view text) {
  pem::ScanResult scanned = pem::scan(text);
  if (scanned.error != pem::ScanError::kNone) {
    return refuse(reason::kKeyParseError, "tls.key has " +
                                              std::string(pem::describe(scanned.error)) + " (" +
                                              at_line(scanned.error_line) + ")");
  }

  std::vector<const pem::Block*> keys;
  for (const pem::Block& block : scanned.blocks) {
    KeyBlockKind kind = classify_key_block(block.label);
    if (kind == KeyBlockKind::kIgnored) continue;
    if (kind == KeyBlockKind::kNotAKey) {
      return refuse(reason::kKeyUnexpectedBlock, "tls.key contains " + block_kind(block) + " at " +
                                                     at_line(block.line) +
                                                     "; it must hold only the private key");
    }
    keys.push_back(&block);
  }
  if (keys.empty()) {
    return refuse(
        reason::kKeyParseError,
        "tls.key contains no PEM private key block (expected -----BEGIN PRIVATE KEY-----)");
  }
  if (keys.size() > 1) {
    std::string lines;
    for (const pem::Block* block : keys) {
      lines += (lines.empty() ? "" : ", ") + std::to_string(block->line);
    }
    return refuse(reason::kKeyMultiple, "tls.key contains " + std::to_string(keys.size()) +
                                            " private keys (at lines " + lines +
                                            "); it must hold exactly one");
  }

  const pem::Block& block = *keys.front();
  const KeyBlockKind kind = classify_key_block(block.label);
  const std::string where = block_kind(block) + " of tls.key (" + at_line(block.line) + ")";
  if (kind == KeyBlockKind::kEncryptedPkcs8 || has_encryption_headers(block)) {
    return refuse(reason::kKeyEncrypted,
                  "tls.key is encrypted; certsync needs an unencrypted private key and never "
                  "asks for a passphrase");
  }
  if (kind == KeyBlockKind::kUnsupported) {
    std::string_view label = pem::printable_label(block.label);
    return refuse(reason::kKeyUnsupported,
                  "tls.key holds " +
                      (label.empty() ? std::string("a private key") : "a " + std::string(label)) +
                      " block; certsync reads PKCS#8 (PRIVATE KEY), PKCS#1 (RSA PRIVATE KEY) "
                      "and SEC1 (EC PRIVATE KEY) keys");
  }
  if (!block.headers.empty()) {
    return refuse(reason::kKeyParseError, where + " has unexpected PEM headers");
  }

  PkeyPtr key;
  const char* expected = "";
  switch (kind) {
    case KeyBlockKind::kPkcs8:
      key = decode_pkcs8(block.der);
      expected = "a PKCS#8 private key";
      break;
    case KeyBlockKind::kPkcs1:
      key = decode_traditional(EVP_PKEY_RSA, block.der);
      expected = "a PKCS#1 RSA private key";
      break;
    case KeyBlockKind::kSec1:
      key = decode_traditional(EVP_PKEY_EC, block.der);
      expected = "a SEC1 EC private key";
      break;
    default:
      break;
  }
  if (!key) return refuse(reason::kKeyParseError, where + " is not " + expected);
  return ParsedKey{std::move(key), pem::encode(block.label, block.der)};
}

// "RSA-2048", "EC-P-256", "ED25519", "ED448"; key_unsupported for anything a
// TLS server cannot sign with.
Checked<std::string> key_type_of(EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  switch (id) {
    case EVP_PKEY_RSA:
      return "RSA-" + std::to_string(EVP_PKEY_get_bits(key));
    case EVP_PKEY_EC: {
      char group[80] = {};
      size_t length = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         &length) != 1 ||
          length == 0) {
        return refuse(reason::kKeyUnsupported,
                      "tls.key is an EC key without a named curve; certsync serves EC keys on "
                      "named curves (P-256, P-384, P-521)");
      }
      int nid = OBJ_sn2nid(group);
      if (nid == NID_undef) nid = OBJ_txt2nid(group);
      const char* nist = nid != NID_undef ? EC_curve_nid2nist(nid) : nullptr;
      return "EC-" + std::string(nist != nullptr ? nist : group);
    }
    case EVP_PKEY_ED25519:
      return std::string("ED25519");
    case EVP_PKEY_ED448:
      return std::string("ED448");
    default: {
      const char* name = OBJ_nid2sn(id);
      return refuse(reason::kKeyUnsupported,
                    "tls.key holds a " + std::string(name != nullptr ? name : "unknown") +
                        " key; certsync serves RSA, EC, Ed25519 and Ed448 keys");
    }
  }
}

// ---------------------------------------------------------------------------
// Pair and chain

std::optional<Refusal> check_key_matches_leaf(X509* leaf, EVP_PKEY* key) {
  if (EVP_PKEY_eq(X509_get0_pubkey(leaf), key) != 1) {
    return refuse(reason::kKeyMismatch, "tls.key does not match the leaf certificate in tls.crt (" +
                                            describe_cert(leaf) + ")");
  }
  return std::nullopt;
}

// EVP_PKEY_eq compares public halves only: a key whose private half is
// corrupt would still match. Sign a fixed message and verify it with the
// leaf's public key, as a handshake would.
// An RSA private key whose CRT parameters agree with each other and with
// the public modulus produces signatures that verify: p * q = n, the CRT
// exponents are d reduced mod p - 1 and q - 1 and invert e there, and the
// coefficient inverts q mod p. Checking that is a few multiplications;
// signing with a 2048-bit key is a millisecond, most of a first sync of
// RSA Secrets. nullopt when the key lacks a parameter: sign instead.
std::optional<bool> rsa_key_consistent(EVP_PKEY* key) {
  const char* const names[] = {OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
                               OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
                               OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                               OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  BIGNUM* v[8] = {};
  auto free_all = [&v] {
    for (BIGNUM*& b : v) BN_clear_free(b);
  };
  for (size_t i = 0; i < 8; ++i) {
    if (EVP_PKEY_get_bn_param(key, names[i], &v[i]) != 1) {
      free_all();
      ERR_clear_error();
      return std::nullopt;
    }
  }
  BIGNUM *n = v[0], *e = v[1], *d = v[2], *p = v[3], *q = v[4], *dp = v[5], *dq = v[6], *qinv = v[7];
  BN_CTX* ctx = BN_CTX_secure_new();
  BIGNUM* t = BN_secure_new();
  BIGNUM* p1 = BN_secure_new();
  BIGNUM* q1 = BN_secure_new();
  bool ok = ctx && t && p1 && q1 && BN_mul(t, p, q, ctx) && BN_cmp(t, n) == 0 &&  // n = p q
            BN_sub(p1, p, BN_value_one()) && BN_sub(q1, q, BN_value_one()) &&
            BN_mod(t, d, p1, ctx) && BN_cmp(t, dp) == 0 &&                      // dP = d mod (p - 1)
            BN_mod(t, d, q1, ctx) && BN_cmp(t, dq) == 0 &&                      // dQ = d mod (q - 1)
            BN_mod_mul(t, e, dp, p1, ctx) && BN_is_one(t) &&                    // e dP = 1 mod (p - 1)
            BN_mod_mul(t, e, dq, q1, ctx) && BN_is_one(t) &&                    // e dQ = 1 mod (q - 1)
            BN_mod_mul(t, qinv, q, p, ctx) && BN_is_one(t);                     // qInv q = 1 mod p
  BN_clear_free(t);
  BN_clear_free(p1);
  BN_clear_free(q1);
  BN_CTX_free(ctx);
  free_all();
  ERR_clear_error();
  return ok;
}

std::optional<Refusal> check_key_signs(X509* leaf, EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    if (std::optional<bool> consistent = rsa_key_consistent(key)) {
      if (*consistent) return std::nullopt;
      return refuse(reason::kKeyInvalid,
                    "tls.key has the public key of the leaf certificate (" + describe_cert(leaf) +
                        ") but its private half does not fit it: the private key is corrupt");
    }
  }
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    // The private scalar times the curve's generator must be the public
    // point, which check_key_matches_leaf() found in the leaf: one scalar
    // multiplication, where a signature and its verification are three.
    ossl::PkeyCtxPtr context(EVP_PKEY_CTX_new(key, nullptr));
    if (!context) throw std::bad_alloc();
    if (EVP_PKEY_pairwise_check(context.get()) == 1) return std::nullopt;
    return refuse(reason::kKeyInvalid,
                  "tls.key has the public key of the leaf certificate (" + describe_cert(leaf) +
                      ") but its private half does not fit it: the private key is corrupt");
  }
  static constexpr unsigned char kMessage[] = "certsync: key self-test";
  const int id = EVP_PKEY_get_base_id(key);
  const EVP_MD* digest = (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
  const int max_size = EVP_PKEY_get_size(key);
  if (max_size <= 0) return internal_error("cannot size a signature");

  std::vector<unsigned char> signature(static_cast<size_t>(max_size));
  size_t signature_size = signature.size();
  ossl::MdCtxPtr sign(EVP_MD_CTX_new());
  ossl::MdCtxPtr verify(EVP_MD_CTX_new());
  if (!sign || !verify) throw std::bad_alloc();
  bool ok =
      EVP_DigestSignInit(sign.get(), nullptr, digest, nullptr, key) == 1 &&
      EVP_DigestSign(sign.get(), signature.data(), &signature_size, kMessage, sizeof kMessage) ==
          1 &&
      EVP_DigestVerifyInit(verify.get(), nullptr, digest, nullptr, X509_get0_pubkey(leaf)) == 1 &&
      EVP_DigestVerify(verify.get(), signature.data(), signature_size, kMessage, sizeof kMessage) ==
          1;
  if (!ok) {
    return refuse(reason::kKeyInvalid,
                  "tls.key has the public key of the leaf certificate (" + describe_cert(leaf) +
                      ") but cannot make a signature that verifies with it: the private key "
                      "is corrupt");
  }
  return std::nullopt;
}

// tls.crt lists the leaf, then its issuer, then that one's issuer, ...
std::optional<Refusal> check_chain_order(const std::vector<X509Ptr>& chain) {
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    X509* subject = chain[i].get();
    X509* issuer = chain[i + 1].get();
    if (!issued_by(subject, issuer)) {
      return refuse(reason::kChainOrder,
                    "certificate " + std::to_string(i + 1) + " in tls.crt (" +
                        describe_cert(subject) + ", issuer " +
                        clip(name_rfc2253(X509_get_issuer_name(subject))) +
                        ") is not issued by certificate " + std::to_string(i + 2) + " (" +
                        describe_cert(issuer) +
                        "); tls.crt must list the leaf first, then each issuer in order");
    }
  }
  return std::nullopt;
}

// Re-sorting tries every pair of certificates; a real chain is short.
constexpr size_t kMaxReorderedChain = 16;

// reorder_chain: puts an out-of-order tls.crt in order. The leaf is the one
// certificate that issued none of the others; each next one is the only
// remaining certificate that issued the previous one. Every certificate must
// find its place, otherwise tls.crt is not one chain and is refused.
std::optional<Refusal> reorder_chain(std::vector<X509Ptr>& chain) {
  const size_t count = chain.size();
  auto not_one_chain = [&](const std::string& why) {
    return refuse(reason::kChainOrder, "the " + std::to_string(count) +
                                           " certificates in tls.crt are out of order and cannot "
                                           "be re-sorted into one chain: " +
                                           why);
  };
  if (count > kMaxReorderedChain) {
    return not_one_chain("re-sorting handles at most " + std::to_string(kMaxReorderedChain) +
                         " certificates");
  }
  // issued[i][j]: certificate j issued certificate i.
  std::vector<std::vector<bool>> issued(count, std::vector<bool>(count, false));
  for (size_t i = 0; i < count; ++i) {
    for (size_t j = 0; j < count; ++j) {
      if (i != j) issued[i][j] = issued_by(chain[i].get(), chain[j].get());
    }
  }
  std::vector<size_t> leaves;
  for (size_t candidate = 0; candidate < count; ++candidate) {
    bool issues_another = false;
    for (size_t i = 0; i < count; ++i) issues_another = issues_another || issued[i][candidate];
    if (!issues_another) leaves.push_back(candidate);
  }
  if (leaves.size() != 1) {
    return not_one_chain(leaves.empty() ? std::string("every certificate issued another one")
                                        : std::to_string(leaves.size()) +
                                              " of them issued none of the others");
  }

  std::vector<size_t> order{leaves.front()};
  std::vector<bool> placed(count, false);
  placed[leaves.front()] = true;
  while (order.size() < count) {
    const size_t current = order.back();
    std::vector<size_t> issuers;
    for (size_t j = 0; j < count; ++j) {
      if (!placed[j] && issued[current][j]) issuers.push_back(j);
    }
    if (issuers.size() != 1) {
      return not_one_chain("certificate " + std::to_string(current + 1) + " (" +
                           describe_cert(chain[current].get()) + ") has " +
                           std::to_string(issuers.size()) +
                           " possible issuers among the certificates left");
    }
    placed[issuers.front()] = true;
    order.push_back(issuers.front());
  }
  std::vector<X509Ptr> sorted;
  sorted.reserve(count);
  for (size_t index : order) sorted.push_back(std::move(chain[index]));
  chain = std::move(sorted);
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Names

struct ServerNames {
  std::vector<std::string> usable;
  std::vector<std::string> ignored;
  std::vector<std::string> ip_addresses;
  bool san_unreadable = false;  // a subjectAltName extension that does not decode
  bool from_common_name = false;
};

bool is_hostname_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A DNS SAN as an SNI: lowercased, one trailing dot dropped, labels of 1-63
// hostname characters, at most 253 characters, and '*' only as the whole
// left-most label of a name with at least one more label. nullopt: unusable.
std::optional<std::string> normalise_dns_name(std::string_view raw) {
  std::string name;
  name.reserve(raw.size());
  for (char c : raw) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    name += c;
  }
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty() || name.size() > 253) return std::nullopt;

  size_t start = 0;
  for (size_t index = 0;; ++index) {
    size_t dot = name.find('.', start);
    std::string_view label = std::string_view(name).substr(
        start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty() || label.size() > 63) return std::nullopt;
    if (label == "*") {
      if (index != 0 || dot == std::string::npos) return std::nullopt;
    } else {
      for (char c : label) {
        if (!is_hostname_char(c)) return std::nullopt;
      }
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return name;
}

// An IP SAN as text ("192.0.2.1", "2001:db8::1"); nullopt unless 4 or 16 bytes.
std::optional<std::string> ip_address_text(const ASN1_OCTET_STRING* address) {
  const int length = ASN1_STRING_length(address);
  const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : AF_UNSPEC;
  char text[INET6_ADDRSTRLEN] = {};
  if (family == AF_UNSPEC ||
      inet_ntop(family, ASN1_STRING_get0_data(address), text, sizeof text) == nullptr) {
    return std::nullopt;
  }
  return std::string(text);
}

// The most specific (last) CN of the leaf's subject, as UTF-8; nullopt if none.
std::optional<std::string> last_common_name(X509* leaf) {
  const X509_NAME* subject = X509_get_subject_name(leaf);
  int index = -1;
  for (int next = -1; (next = X509_NAME_get_index_by_NID(subject, NID_commonName, next)) >= 0;) {
    index = next;
  }
  if (index < 0) return std::nullopt;
  unsigned char* raw = nullptr;
  const int length =
      ASN1_STRING_to_UTF8(&raw, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
  ossl::OsslBytesPtr utf8(raw);
  if (length < 0 || !utf8) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(utf8.get()), static_cast<size_t>(length));
}

// DNS SANs become SNIs and IP SANs are recorded. The CN is a name only with
// cn_fallback and when the leaf has no subjectAltName at all (RFC 6125 6.4.4).
ServerNames collect_server_names(X509* leaf, bool cn_fallback) {
  ServerNames names;
  int found = -1;
  ossl::GeneralNamesPtr sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, &found, nullptr)));
  names.san_unreadable = !sans && found != -1;
  std::unordered_set<std::string> seen;
  auto add_dns = [&](std::string_view raw) {
    std::optional<std::string> name = normalise_dns_name(raw);
    if (!name) {
      names.ignored.push_back(clip(printable(raw), 300));
    } else if (seen.insert(*name).second) {
      names.usable.push_back(std::move(*name));
    }
  };
  const int count = sans ? sk_GENERAL_NAME_num(sans.get()) : 0;
  for (int i = 0; i < count; ++i) {
    const GENERAL_NAME* entry = sk_GENERAL_NAME_value(sans.get(), i);
    if (entry == nullptr) continue;
    if (entry->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = entry->d.dNSName;
      add_dns(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                               static_cast<size_t>(ASN1_STRING_length(dns))));
    } else if (entry->type == GEN_IPADD) {
      if (std::optional<std::string> ip = ip_address_text(entry->d.iPAddress)) {
        if (std::find(names.ip_addresses.begin(), names.ip_addresses.end(), *ip) ==
            names.ip_addresses.end()) {
          names.ip_addresses.push_back(std::move(*ip));
        }
      } else {
        names.ignored.push_back("an IP address SAN of " +
                                std::to_string(ASN1_STRING_length(entry->d.iPAddress)) + " bytes");
      }
    }
  }
  if (cn_fallback && count == 0 && !names.san_unreadable) {
    if (std::optional<std::string> common_name = last_common_name(leaf)) {
      add_dns(*common_name);
      names.from_common_name = !names.usable.empty();
    }
  }
  return names;
}

std::optional<Refusal> check_usable_names(X509* leaf, const ServerNames& names, bool cn_fallback) {
  if (!names.usable.empty()) return std::nullopt;
  std::string message = "the leaf certificate in tls.crt (" + describe_cert(leaf) +
                        ") has no DNS subjectAltName usable as a server name";
  if (names.san_unreadable) message += "; its subjectAltName extension cannot be read";
  if (!names.ignored.empty()) {
    message += " (unusable: ";
    for (size_t i = 0; i < names.ignored.size() && i < 5; ++i) {
      message += (i == 0 ? "" : ", ") + clip(names.ignored[i], 80);
    }
    if (names.ignored.size() > 5) message += ", ...";
    message += ")";
  }
  if (!names.ip_addresses.empty()) message += "; IP address SANs are never used as server names";
  if (!cn_fallback && X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1) < 0) {
    message += "; the subject CN is not used (cn_fallback is off)";
  }
  return refuse(reason::kNoUsableName, std::move(message));
}

// A certificate name covers a host if it is the same name, or a wildcard
// "*.rest" and the host is one label followed by ".rest".
bool name_covers(const std::string& certificate_name, const std::string& host) {
  if (certificate_name == host) return true;
  if (certificate_name.size() < 3 || certificate_name.compare(0, 2, "*.") != 0) return false;
  if (host.compare(0, 2, "*.") == 0) return false;
  const size_t dot = host.find('.');
  return dot != std::string::npos && dot > 0 &&
         host.compare(dot, std::string::npos, certificate_name, 1, std::string::npos) == 0;
}

std::string list_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 8; ++i)
    out += (i == 0 ? "" : ", ") + clip(names[i], 80);
  if (names.size() > 8) out += ", ...";
  return out;
}

// sni_override: the served SNIs become exactly the override's names, each of
// which must be covered by a name of the leaf.
Checked<std::vector<std::string>> apply_sni_override(X509* leaf, const ServerNames& names,
                                                     const std::vector<std::string>& override) {
  std::vector<std::string> snis;
  for (const std::string& raw : override) {
    std::optional<std::string> host = normalise_dns_name(raw);
    if (!host) {
      return refuse(reason::kSniOverrideInvalid,
                    "the SNI override name \"" + clip(printable(raw), 80) +
                        "\" is not a valid host name or wildcard (*.example.com)");
    }
    const bool covered =
        std::any_of(names.usable.begin(), names.usable.end(),
                    [&](const std::string& name) { return name_covers(name, *host); });
    if (!covered) {
      return refuse(reason::kSniOverrideNotCovered,
                    "the SNI override names " + clip(*host, 80) +
                        ", which the leaf certificate in tls.crt (" + describe_cert(leaf) +
                        ") does not cover; its names are " + list_names(names.usable));
    }
    if (std::find(snis.begin(), snis.end(), *host) == snis.end()) snis.push_back(std::move(*host));
  }
  return snis;
}

// ---------------------------------------------------------------------------
// Leaf policy: what TLS clients would refuse

// "serverAuth", or the dotted OID of an unknown purpose.
std::string object_name(const ASN1_OBJECT* object) {
  const int nid = OBJ_obj2nid(object);
  if (nid != NID_undef) {
    if (const char* name = OBJ_nid2sn(nid)) return name;
  }
  char text[80] = {};
  if (OBJ_obj2txt(text, sizeof text, object, 1) <= 0) return "an unreadable OID";
  return text;
}

// An extendedKeyUsage, when present, must allow serverAuth (or any purpose).
std::optional<Refusal> check_extended_key_usage(X509* leaf) {
  int found = -1;
  ossl::ExtendedKeyUsagePtr usages(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(leaf, NID_ext_key_usage, &found, nullptr)));
  if (!usages) {
    if (found == -1) return std::nullopt;  // no extension: any purpose
    return refuse(reason::kCertParseError,
                  "the leaf certificate in tls.crt (" + describe_cert(leaf) + ") has " +
                      (found == -2 ? "more than one extendedKeyUsage extension"
                                   : "an extendedKeyUsage extension that cannot be read"));
  }
  std::string listed;
  for (int i = 0; i < sk_ASN1_OBJECT_num(usages.get()); ++i) {
    const ASN1_OBJECT* usage = sk_ASN1_OBJECT_value(usages.get(), i);
    const int nid = OBJ_obj2nid(usage);
    if (nid == NID_server_auth || nid == NID_anyExtendedKeyUsage) return std::nullopt;
    if (i < 8) listed += (listed.empty() ? "" : ", ") + object_name(usage);
  }
  return refuse(reason::kEkuNotServerAuth, "the leaf certificate in tls.crt (" +
                                               describe_cert(leaf) +
                                               ") has an extendedKeyUsage without serverAuth (" +
                                               (listed.empty() ? std::string("empty") : listed) +
                                               "); TLS clients refuse it for a server");
}

bool is_weak_digest(int nid) {
  switch (nid) {
    case NID_md2:
    case NID_md4:
    case NID_md5:
    case NID_md5_sha1:
    case NID_mdc2:
    case NID_sha:
    case NID_sha1:
      return true;
    default:
      return false;
  }
}

// No certificate of tls.crt may be signed with a broken digest, except a
// self-signed root, whose signature nobody checks. Clients refuse such a
// chain, and so does the OpenSSL in nginx at its default security level:
// ngx.ssl.set_cert fails on it, which would break the handshake.
std::optional<Refusal> check_signature_digest(X509* cert, size_t position) {
  if (position > 0 && X509_check_issued(cert, cert) == X509_V_OK) return std::nullopt;
  const int signature = X509_get_signature_nid(cert);
  int digest = NID_undef;
  int algorithm = NID_undef;
  if (OBJ_find_sigid_algs(signature, &digest, &algorithm) != 1) digest = NID_undef;
  if (digest == NID_undef) {
    // RSASSA-PSS names its digest in the parameters.
    int from_parameters = NID_undef;
    if (X509_get_signature_info(cert, &from_parameters, nullptr, nullptr, nullptr) == 1) {
      digest = from_parameters;
    }
  }
  if (!is_weak_digest(digest)) return std::nullopt;
  const char* signature_name = OBJ_nid2ln(signature);
  const char* digest_name = OBJ_nid2sn(digest);
  const std::string which = position == 0 ? std::string("the leaf certificate")
                                          : "certificate " + std::to_string(position + 1);
  return refuse(reason::kWeakSignature,
                which + " in tls.crt (" + describe_cert(cert) + ") is signed with " +
                    (signature_name != nullptr ? signature_name : "an unnamed algorithm") + " (" +
                    (digest_name != nullptr ? digest_name : "a weak digest") +
                    "); TLS clients refuse SHA-1 and MD5 signatures");
}

constexpr int kMinRsaBits = 2048;

std::optional<Refusal> check_rsa_key_size(X509* leaf) {
  EVP_PKEY* key = X509_get0_pubkey(leaf);
  const int id = EVP_PKEY_get_base_id(key);
  if (id != EVP_PKEY_RSA && id != EVP_PKEY_RSA_PSS) return std::nullopt;
  const int bits = EVP_PKEY_get_bits(key);
  if (bits >= kMinRsaBits) return std::nullopt;
  return refuse(reason::kRsaKeyTooSmall, "the leaf certificate in tls.crt (" + describe_cert(leaf) +
                                             ") has an RSA key of " + std::to_string(bits) +
                                             " bits; at least " + std::to_string(kMinRsaBits) +
                                             " are required");
}

// ---------------------------------------------------------------------------
// verify_chain: tls.crt up to ca.crt

// The leaf's own validity period is reported by the expired / not_yet_valid
// flags, not by a refusal: only that error is forgiven.
int forgive_leaf_dates(int ok, X509_STORE_CTX* context) {
  if (ok == 0 && X509_STORE_CTX_get_error_depth(context) == 0) {
    const int error = X509_STORE_CTX_get_error(context);
    if (error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID) return 1;
  }
  return ok;
}

std::optional<Refusal> check_chain_to_ca(const std::vector<X509Ptr>& chain,
                                         const std::vector<X509Ptr>& anchors, int64_t now) {
  ossl::StorePtr store(X509_STORE_new());
  ossl::X509RefStackPtr untrusted(sk_X509_new_null());
  ossl::StoreCtxPtr context(X509_STORE_CTX_new());
  if (!store || !untrusted || !context) throw std::bad_alloc();

  bool has_intermediate = false;
  for (const X509Ptr& anchor : anchors) {
    if (X509_STORE_add_cert(store.get(), anchor.get()) != 1) {
      return internal_error("cannot load ca.crt into a certificate store");
    }
    if (X509_self_signed(anchor.get(), 0) != 1) has_intermediate = true;
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (sk_X509_push(untrusted.get(), chain[i].get()) <= 0) throw std::bad_alloc();
  }
  X509* leaf = chain.front().get();
  if (X509_STORE_CTX_init(context.get(), store.get(), leaf, untrusted.get()) != 1 ||
      X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER) != 1) {
    return internal_error("cannot set up chain verification");
  }
  if (has_intermediate) X509_STORE_CTX_set_flags(context.get(), X509_V_FLAG_PARTIAL_CHAIN);
  X509_STORE_CTX_set_time(context.get(), 0, static_cast<time_t>(now));
  X509_STORE_CTX_set_verify_cb(context.get(), forgive_leaf_dates);
  if (X509_verify_cert(context.get()) == 1) return std::nullopt;

  const int error = X509_STORE_CTX_get_error(context.get());
  std::string message = "the leaf certificate in tls.crt (" + describe_cert(leaf) +
                        ") does not verify up to ca.crt: " + X509_verify_cert_error_string(error);
  if (X509* at = X509_STORE_CTX_get_current_cert(context.get())) {
    message += " (at depth " + std::to_string(X509_STORE_CTX_get_error_depth(context.get())) +
               ", " + describe_cert(at) + ")";
  }
  return refuse(reason::kChainUntrusted, std::move(message));
}

// cert-manager's placeholder (pkg/util/pki temporary certificates) is signed
// by a throwaway CA whose subject is CN=cert-manager.local.
bool issued_by_cert_manager_local(X509* leaf) {
  const X509_NAME* issuer = X509_get_issuer_name(leaf);
  for (int index = -1; (index = X509_NAME_get_index_by_NID(issuer, NID_commonName, index)) >= 0;) {
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(issuer, index));
    std::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                          static_cast<size_t>(ASN1_STRING_length(value)));
    if (text == "cert-manager.local") return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Normalised output

std::optional<std::string> certificates_pem(const std::vector<X509Ptr>& chain) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return std::nullopt;
  for (const X509Ptr& cert : chain) {
    if (PEM_write_bio_X509(bio.get(), cert.get()) != 1) return std::nullopt;
  }
  return bio_contents(bio.get());
}

// What the checks found out, for describe_bundle().
struct Findings {
  std::string key_type;
  ServerNames names;
  std::optional<std::vector<std::string>> sni_override;
  bool chain_reordered = false;
  bool chain_incomplete = false;
  std::string chain_missing_issuer;
  int chain_completable = 0;
  int chain_completed = 0;
};

Checked<ValidBundle> describe_bundle(const std::vector<X509Ptr>& chain, SecretBytes key_pem,
                                     Findings findings, const ValidationOptions& options,
                                     int64_t now) {
  X509* leaf = chain.front().get();
  ValidBundle bundle;

  std::optional<std::string> cert_pem = certificates_pem(chain);
  if (!cert_pem) return internal_error("cannot re-encode tls.crt");
  bundle.cert_pem = std::move(*cert_pem);
  bundle.key_pem = std::move(key_pem);

  bundle.snis =
      findings.sni_override ? std::move(*findings.sni_override) : std::move(findings.names.usable);
  bundle.ip_addresses = std::move(findings.names.ip_addresses);
  bundle.ignored_names = std::move(findings.names.ignored);
  bundle.serial_hex = serial_hex(leaf);

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (X509_digest(leaf, EVP_sha256(), digest, &digest_size) != 1) {
    return internal_error("cannot hash the leaf certificate");
  }
  bundle.fingerprint_sha256 = hex_lower(digest, digest_size);

  bundle.subject = name_rfc2253(X509_get_subject_name(leaf));
  bundle.issuer = name_rfc2253(X509_get_issuer_name(leaf));

  std::optional<int64_t> not_before = unix_seconds(X509_get0_notBefore(leaf));
  std::optional<int64_t> not_after = unix_seconds(X509_get0_notAfter(leaf));
  if (!not_before || !not_after) {
    return refuse(reason::kCertParseError, "the leaf certificate in tls.crt (" +
                                               describe_cert(leaf) +
                                               ") has an unreadable validity period");
  }
  bundle.not_before = *not_before;
  bundle.not_after = *not_after;
  bundle.expired = now > bundle.not_after;
  // Both are real dates (years 0-9999), so the difference cannot overflow.
  const int64_t skew = std::max<int64_t>(0, options.clock_skew_seconds);
  if (bundle.not_before - now > skew) {
    bundle.not_yet_valid = true;
    bundle.deferred_until = bundle.not_before - skew;
  }
  bundle.temporary = options.temporary_certificate_annotation || issued_by_cert_manager_local(leaf);
  bundle.chain_reordered = findings.chain_reordered;
  bundle.chain_incomplete = findings.chain_incomplete;
  bundle.chain_missing_issuer = std::move(findings.chain_missing_issuer);
  bundle.chain_completable = findings.chain_completable;
  bundle.chain_completed = findings.chain_completed;

  bundle.key_type = std::move(findings.key_type);
  bundle.chain_length = static_cast<int>(chain.size());
  return bundle;
}

// ---------------------------------------------------------------------------

// An incomplete chain is served (clients with the intermediate cached
// verify it) but flagged; with complete_chain the intermediates ca.crt holds
// are appended, so they are checked and served like the rest of tls.crt.
void note_chain_gap(std::vector<X509Ptr>& chain, const std::vector<X509Ptr>& ca, bool complete,
                    Findings& findings) {
  ChainGap gap = find_chain_gap(chain, ca);
  if (!gap.incomplete) return;
  if (complete && !gap.from_ca.empty()) {
    findings.chain_completed = static_cast<int>(gap.from_ca.size());
    for (X509Ptr& intermediate : gap.from_ca) chain.push_back(std::move(intermediate));
    // ca.crt may stop short of a root too: what is then still missing above
    // its last intermediate is not known, so the chain counts as complete.
    return;
  }
  findings.chain_incomplete = true;
  findings.chain_missing_issuer = name_rfc2253(X509_get_issuer_name(gap.top));
  findings.chain_completable = static_cast<int>(gap.from_ca.size());
}

// The checks that need only tls.crt (and ca.crt), in order. On success the
// chain is in order and `findings` holds the names.
std::optional<Refusal> check_certificates(std::vector<X509Ptr>& chain,
                                          const ValidationOptions& options, int64_t now,
                                          Findings& findings) {
  if (auto refused = check_chain_order(chain)) {
    if (!options.reorder_chain) return refused;
    if (auto unsortable = reorder_chain(chain)) return unsortable;
    findings.chain_reordered = true;
  }
  X509* leaf = chain.front().get();

  findings.names = collect_server_names(leaf, options.cn_fallback);
  if (auto refused = check_usable_names(leaf, findings.names, options.cn_fallback)) {
    return refused;
  }
  if (!options.sni_override.empty()) {
    Checked<std::vector<std::string>> snis =
        apply_sni_override(leaf, findings.names, options.sni_override);
    if (const Refusal* refused = refusal_of(snis)) return *refused;
    findings.sni_override = std::move(std::get<std::vector<std::string>>(snis));
  }

  if (auto refused = check_extended_key_usage(leaf)) return refused;

  // ca.crt is read when the chain is checked against it, or when it may hold
  // an issuer tls.crt lacks. Unreadable, it refuses only the former.
  std::vector<X509Ptr> ca;
  const bool verify = options.verify_chain && !pem::is_blank(options.ca_pem);
  if (verify || (!self_issued(chain.back().get()) && !pem::is_blank(options.ca_pem) &&
                 options.ca_pem.size() <= options.max_input_bytes)) {
    Checked<std::vector<X509Ptr>> parsed = parse_certificates(options.ca_pem, kCaCrt);
    if (const Refusal* refused = refusal_of(parsed)) {
      if (verify) return *refused;
    } else {
      ca = std::move(std::get<std::vector<X509Ptr>>(parsed));
    }
  }
  note_chain_gap(chain, ca, options.complete_chain, findings);

  for (size_t i = 0; i < chain.size(); ++i) {
    if (auto refused = check_signature_digest(chain[i].get(), i)) return refused;
  }
  if (auto refused = check_rsa_key_size(leaf)) return refused;

  if (verify) {
    if (auto refused = check_chain_to_ca(chain, ca, now)) return refused;
  }
  return std::nullopt;
}

ValidationResult validate_checked(std::string_view cert_text, std::string_view key_text,
                                  const ValidationOptions& options) {
  if (auto refused = check_sizes(cert_text, key_text, options.max_input_bytes)) return *refused;
  if (options.verify_chain && options.ca_pem.size() > options.max_input_bytes) {
    return refuse(reason::kTooLarge, "ca.crt is " + std::to_string(options.ca_pem.size()) +
                                         " bytes; the limit is " +
                                         std::to_string(options.max_input_bytes) + " bytes");
  }
  if (auto refused = check_present(cert_text, key_text)) return *refused;
  const int64_t now = options.now != 0 ? options.now : static_cast<int64_t>(std::time(nullptr));

  // tls.crt on its own first: a reversed chain is a chain_order problem even
  // though its first certificate then does not match the key.
  Checked<std::vector<X509Ptr>> parsed_chain = parse_certificates(cert_text);
  if (const Refusal* refused = refusal_of(parsed_chain)) return *refused;
  std::vector<X509Ptr>& chain = std::get<std::vector<X509Ptr>>(parsed_chain);
  Findings findings;
  if (auto refused = check_certificates(chain, options, now, findings)) return *refused;
  X509* leaf = chain.front().get();

  // Then tls.key, and the pair.
  Checked<ParsedKey> parsed_key = parse_private_key(key_text);
  if (const Refusal* refused = refusal_of(parsed_key)) return *refused;
  EVP_PKEY* key = std::get<ParsedKey>(parsed_key).key.get();
  Checked<std::string> key_type = key_type_of(key);
  if (const Refusal* refused = refusal_of(key_type)) return *refused;
  if (auto refused = check_key_matches_leaf(leaf, key)) return *refused;
  if (auto refused = check_key_signs(leaf, key)) return *refused;

  findings.key_type = std::move(std::get<std::string>(key_type));
  Checked<ValidBundle> described = describe_bundle(
      chain, std::move(std::get<ParsedKey>(parsed_key).pem), std::move(findings), options, now);
  if (const Refusal* refused = refusal_of(described)) return *refused;
  return std::move(std::get<ValidBundle>(described));
}

}  // namespace

ValidationResult validate_bundle(std::string_view cert_pem, std::string_view key_pem,
                                 const ValidationOptions& options) {
  ErrorQueueGuard errors;
  const char* what = "an unexpected exception";
  try {
    return validate_checked(cert_pem, key_pem, options);
  } catch (const std::bad_alloc&) {
    what = "out of memory";
  } catch (...) {
  }
  // Build the refusal outside the handlers; if even that fails, return the bare code.
  try {
    return internal_error(what);
  } catch (...) {
    Refusal bare;
    bare.code.assign(reason::kInternalError);  // short enough to need no allocation
    return bare;
  }
}

}  // namespace certsync::tls
