// validate_bundle(): parse tls.crt and tls.key, run every check, describe the
// result. Each check is its own function returning either its product or a
// Refusal; validate_checked() runs them in order and stops at the first refusal.
#include "tls/validate.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <ctime>
#include <exception>
#include <new>
#include <optional>
#include <unordered_set>
#include <utility>

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

// Refuses every passphrase request: certsync never decrypts a key.
int refuse_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return -1;
}

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

Checked<std::vector<X509Ptr>> parse_certificates(std::string_view text) {
  pem::ScanResult scanned = pem::scan(text);
  if (scanned.error != pem::ScanError::kNone) {
    return refuse(reason::kCertParseError, "tls.crt has " +
                                               std::string(pem::describe(scanned.error)) + " (" +
                                               at_line(scanned.error_line) + ")");
  }
  if (scanned.blocks.empty()) {
    return refuse(reason::kCertParseError,
                  "tls.crt contains no PEM block (expected -----BEGIN CERTIFICATE-----)");
  }

  std::vector<X509Ptr> chain;
  chain.reserve(scanned.blocks.size());
  for (const pem::Block& block : scanned.blocks) {
    const std::string where = "PEM block " + std::to_string(chain.size() + 1) + " of tls.crt (" +
                              at_line(block.line) + ")";
    if (block.label != "CERTIFICATE") {
      return refuse(reason::kCertUnexpectedBlock, "tls.crt contains " + block_kind(block) + " at " +
                                                      at_line(block.line) +
                                                      "; only CERTIFICATE blocks are allowed");
    }
    if (!block.headers.empty()) {
      return refuse(reason::kCertParseError, where + " has PEM headers; a certificate has none");
    }
    const unsigned char* cursor = block.der.data();
    X509Ptr cert(d2i_X509(nullptr, &cursor, static_cast<long>(block.der.size())));
    if (!cert || cursor != block.der.data() + block.der.size()) {
      return refuse(reason::kCertParseError, where + " is not a valid X.509 certificate");
    }
    if (X509_get0_pubkey(cert.get()) == nullptr) {
      return refuse(reason::kCertParseError, where + " (" + describe_cert(cert.get()) +
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
  const unsigned char* cursor = der.data();
  ossl::P8InfoPtr info(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &cursor, static_cast<long>(der.size())));
  if (!info || cursor != der.data() + der.size()) return nullptr;
  return PkeyPtr(EVP_PKCS82PKEY(info.get()));
}

// PKCS#1 / SEC1 DER of the given type. (OpenSSL also accepts a PKCS#8
// structure here; the label is then merely imprecise, the key is still
// checked to be of the type the label names.)
PkeyPtr decode_traditional(int type, const pem::WipedBuffer& der) {
  const unsigned char* cursor = der.data();
  PkeyPtr key(d2i_PrivateKey(type, nullptr, &cursor, static_cast<long>(der.size())));
  if (!key || cursor != der.data() + der.size() || EVP_PKEY_get_base_id(key.get()) != type) {
    return nullptr;
  }
  return key;
}

Checked<PkeyPtr> parse_private_key(std::string_view text) {
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
  return key;
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
std::optional<Refusal> check_key_signs(X509* leaf, EVP_PKEY* key) {
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
    const bool issued = X509_check_issued(issuer, subject) == X509_V_OK &&
                        X509_verify(subject, X509_get0_pubkey(issuer)) == 1;
    if (!issued) {
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

// ---------------------------------------------------------------------------
// Names

struct ServerNames {
  std::vector<std::string> usable;
  std::vector<std::string> ignored;
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

ServerNames collect_server_names(X509* leaf) {
  ServerNames names;
  ossl::GeneralNamesPtr sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  if (!sans) return names;
  std::unordered_set<std::string> seen;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* entry = sk_GENERAL_NAME_value(sans.get(), i);
    if (entry == nullptr || entry->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = entry->d.dNSName;
    std::string_view raw(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                         static_cast<size_t>(ASN1_STRING_length(dns)));
    std::optional<std::string> name = normalise_dns_name(raw);
    if (!name) {
      names.ignored.push_back(clip(printable(raw), 300));
    } else if (seen.insert(*name).second) {
      names.usable.push_back(std::move(*name));
    }
  }
  return names;
}

std::optional<Refusal> check_usable_names(X509* leaf, const ServerNames& names) {
  if (!names.usable.empty()) return std::nullopt;
  std::string message = "the leaf certificate in tls.crt (" + describe_cert(leaf) +
                        ") has no DNS subjectAltName usable as a server name";
  if (!names.ignored.empty()) {
    message += " (unusable: ";
    for (size_t i = 0; i < names.ignored.size() && i < 5; ++i) {
      message += (i == 0 ? "" : ", ") + clip(names.ignored[i], 80);
    }
    if (names.ignored.size() > 5) message += ", ...";
    message += ")";
  }
  return refuse(reason::kNoUsableName, std::move(message));
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

// PKCS#8 PEM, written into a BIO that is cleansed before it is freed.
std::optional<SecretBytes> private_key_pem(EVP_PKEY* key) {
  ossl::SecretBioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return std::nullopt;
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, refuse_passphrase, nullptr) !=
      1) {
    return std::nullopt;
  }
  BUF_MEM* mem = nullptr;
  if (BIO_get_mem_ptr(bio.get(), &mem) != 1 || mem == nullptr || mem->length == 0) {
    return std::nullopt;
  }
  return SecretBytes(std::string_view(mem->data, mem->length));
}

Checked<ValidBundle> describe_bundle(const std::vector<X509Ptr>& chain, EVP_PKEY* key,
                                     std::string key_type, ServerNames names, int64_t now) {
  X509* leaf = chain.front().get();
  ValidBundle bundle;

  std::optional<std::string> cert_pem = certificates_pem(chain);
  if (!cert_pem) return internal_error("cannot re-encode tls.crt");
  std::optional<SecretBytes> key_pem = private_key_pem(key);
  if (!key_pem) return internal_error("cannot re-encode tls.key");
  bundle.cert_pem = std::move(*cert_pem);
  bundle.key_pem = std::move(*key_pem);

  bundle.snis = std::move(names.usable);
  bundle.ignored_names = std::move(names.ignored);
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
  bundle.not_yet_valid = now < bundle.not_before;

  bundle.key_type = std::move(key_type);
  bundle.chain_length = static_cast<int>(chain.size());
  return bundle;
}

// ---------------------------------------------------------------------------

ValidationResult validate_checked(std::string_view cert_text, std::string_view key_text,
                                  const ValidationOptions& options) {
  if (auto refused = check_sizes(cert_text, key_text, options.max_input_bytes)) return *refused;
  if (auto refused = check_present(cert_text, key_text)) return *refused;

  // tls.crt on its own first: a reversed chain is a chain_order problem even
  // though its first certificate then does not match the key.
  Checked<std::vector<X509Ptr>> parsed_chain = parse_certificates(cert_text);
  if (const Refusal* refused = refusal_of(parsed_chain)) return *refused;
  const std::vector<X509Ptr>& chain = std::get<std::vector<X509Ptr>>(parsed_chain);
  X509* leaf = chain.front().get();
  if (auto refused = check_chain_order(chain)) return *refused;
  ServerNames names = collect_server_names(leaf);
  if (auto refused = check_usable_names(leaf, names)) return *refused;

  // Then tls.key, and the pair.
  Checked<PkeyPtr> parsed_key = parse_private_key(key_text);
  if (const Refusal* refused = refusal_of(parsed_key)) return *refused;
  EVP_PKEY* key = std::get<PkeyPtr>(parsed_key).get();
  Checked<std::string> key_type = key_type_of(key);
  if (const Refusal* refused = refusal_of(key_type)) return *refused;
  if (auto refused = check_key_matches_leaf(leaf, key)) return *refused;
  if (auto refused = check_key_signs(leaf, key)) return *refused;

  const int64_t now = options.now != 0 ? options.now : static_cast<int64_t>(std::time(nullptr));
  Checked<ValidBundle> described = describe_bundle(
      chain, key, std::move(std::get<std::string>(key_type)), std::move(names), now);
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
