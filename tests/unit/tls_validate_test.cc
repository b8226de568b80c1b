// validate_bundle(): one scenario per test case, each asserting the exact
// reason code. Keys and certificates are generated at run time (tls_test_certs).
#include <openssl/err.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "tls/reasons.h"
#include "tls/validate.h"
#include "tls_bad_corpus.h"
#include "tls_test_certs.h"

using certsync::testing::CertSpec;
using certsync::testing::KeyKind;
using certsync::testing::TestCert;
using certsync::testing::TestKey;
using certsync::testing::TestPki;
using certsync::tls::Refusal;
using certsync::tls::validate_bundle;
using certsync::tls::ValidationOptions;
using certsync::tls::ValidationResult;
using certsync::tls::ValidBundle;
namespace reason = certsync::tls::reason;

namespace {

CertSpec leaf_spec(std::vector<std::string> names = {"www.example.com"}) {
  CertSpec spec;
  spec.common_name = names.empty() ? "no-san.example.com" : names.front();
  spec.dns_names = std::move(names);
  return spec;
}

// A self-signed leaf on a shared key.
struct Pair {
  TestKey key;
  TestCert cert;
};

Pair self_signed(KeyKind kind, std::vector<std::string> names = {"www.example.com"}, int slot = 0) {
  const TestKey& key = TestKey::shared(kind, slot);
  return Pair{key, TestCert::issue(leaf_spec(std::move(names)), key)};
}

// Both return copies: callers pass temporaries.
ValidBundle require_valid(const ValidationResult& result) {
  if (const Refusal* refused = std::get_if<Refusal>(&result)) {
    FAIL_CHECK("refused: " << refused->code << ": " << refused->message);
  }
  REQUIRE(std::holds_alternative<ValidBundle>(result));
  return std::get<ValidBundle>(result);
}

Refusal require_refused(const ValidationResult& result, std::string_view code) {
  REQUIRE(std::holds_alternative<Refusal>(result));
  const Refusal& refused = std::get<Refusal>(result);
  INFO("message: " << refused.message);
  CHECK(refused.code == code);
  CHECK_FALSE(refused.message.empty());
  return refused;
}

// Every non-empty line of the key PEM, and every 12-character window of its
// base64 body: none of these may appear in a refusal message.
void require_no_key_text(const Refusal& refused, const std::string& key_pem) {
  INFO("message: " << refused.message);
  size_t start = 0;
  while (start < key_pem.size()) {
    size_t end = key_pem.find('\n', start);
    if (end == std::string::npos) end = key_pem.size();
    std::string line = key_pem.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) {
      CHECK(refused.message.find(line) == std::string::npos);
      if (line.rfind("-----", 0) != 0 && line.find(':') == std::string::npos) {
        for (size_t i = 0; i + 12 <= line.size(); i += 4) {
          CHECK(refused.message.find(line.substr(i, 12)) == std::string::npos);
        }
      }
    }
    start = end + 1;
  }
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Replaces the 3rd line of the first PEM block (inside the base64 body).
std::string corrupt_body(const std::string& pem, const std::string& garbage) {
  size_t first = pem.find('\n');
  size_t second = pem.find('\n', first + 1);
  size_t third = pem.find('\n', second + 1);
  std::string out = pem;
  out.replace(second + 1, third - second - 1, garbage);
  return out;
}

}  // namespace

TEST_CASE("A good EC P-256 leaf alone is accepted with every field filled", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256, {"www.example.com"});
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  ValidationResult result = validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem());
  const ValidBundle bundle = require_valid(result);

  CHECK(bundle.snis == std::vector<std::string>{"www.example.com"});
  CHECK(bundle.ignored_names.empty());
  CHECK(bundle.cert_pem == pair.cert.pem());
  CHECK(bundle.key_pem.view() == pair.key.pkcs8_pem());
  CHECK(bundle.key_type == "EC-P-256");
  CHECK(bundle.chain_length == 1);
  CHECK(bundle.subject == "CN=www.example.com");
  CHECK(bundle.issuer == "CN=www.example.com");
  CHECK_FALSE(bundle.expired);
  CHECK_FALSE(bundle.not_yet_valid);
  CHECK(bundle.deferred_until == 0);
  CHECK_FALSE(bundle.temporary);
  CHECK_FALSE(bundle.chain_reordered);
  CHECK(bundle.ip_addresses.empty());
  CHECK(bundle.not_before >= now - 3600 - 5);
  CHECK(bundle.not_before <= now - 3600 + 5);
  CHECK(bundle.not_after >= now + 30 * 86400 - 5);
  CHECK(bundle.not_after <= now + 30 * 86400 + 5);

  REQUIRE(bundle.serial_hex.size() == 16);  // 64 random bits, top bit set
  CHECK(bundle.serial_hex.find_first_not_of("0123456789ABCDEF") == std::string::npos);
  REQUIRE(bundle.fingerprint_sha256.size() == 64);
  CHECK(bundle.fingerprint_sha256.find_first_not_of("0123456789abcdef") == std::string::npos);

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  REQUIRE(X509_digest(pair.cert.get(), EVP_sha256(), digest, &size) == 1);
  char hex[3];
  std::string expected;
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", digest[i]);
    expected += hex;
  }
  CHECK(bundle.fingerprint_sha256 == expected);
}

TEST_CASE("A good RSA-2048 leaf is accepted", "[tls]") {
  Pair pair = self_signed(KeyKind::kRsa2048);
  const ValidBundle bundle = require_valid(validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem()));
  CHECK(bundle.key_type == "RSA-2048");
  CHECK(bundle.snis == std::vector<std::string>{"www.example.com"});
}

TEST_CASE("A good Ed25519 leaf is accepted", "[tls]") {
  Pair pair = self_signed(KeyKind::kEd25519);
  const ValidBundle bundle = require_valid(validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem()));
  CHECK(bundle.key_type == "ED25519");
}

TEST_CASE("A leaf followed by its intermediate is accepted", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const ValidBundle bundle = require_valid(
      validate_bundle(pki.leaf.pem() + pki.intermediate.pem(), pki.leaf_key.pkcs8_pem()));
  CHECK(bundle.chain_length == 2);
  CHECK(bundle.issuer == "CN=certsync test intermediate");
  CHECK(bundle.cert_pem == pki.leaf.pem() + pki.intermediate.pem());
}

TEST_CASE("A leaf, its intermediate and the root in order are accepted", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kRsa2048, leaf_spec());
  const ValidBundle bundle = require_valid(validate_bundle(
      pki.leaf.pem() + pki.intermediate.pem() + pki.root.pem(), pki.leaf_key.pkcs8_pem()));
  CHECK(bundle.chain_length == 3);
  CHECK(bundle.key_type == "RSA-2048");
}

TEST_CASE("A chain in reverse order is refused with chain_order", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const Refusal refused = require_refused(
      validate_bundle(pki.intermediate.pem() + pki.leaf.pem(), pki.leaf_key.pkcs8_pem()),
      reason::kChainOrder);
  CHECK(refused.message.find("certificate 1 in tls.crt (subject CN=certsync test intermediate") !=
        std::string::npos);
  require_refused(validate_bundle(pki.root.pem() + pki.intermediate.pem() + pki.leaf.pem(),
                                  pki.leaf_key.pkcs8_pem()),
                  reason::kChainOrder);
}

TEST_CASE("A leaf followed by the root instead of its intermediate is refused with chain_order",
          "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const Refusal refused =
      require_refused(validate_bundle(pki.leaf.pem() + pki.root.pem() + pki.intermediate.pem(),
                                      pki.leaf_key.pkcs8_pem()),
                      reason::kChainOrder);
  CHECK(refused.message.find("CN=www.example.com") != std::string::npos);
  CHECK(refused.message.find("CN=certsync test root") != std::string::npos);
}

TEST_CASE("A certificate from another issuer with the same name is refused with chain_order",
          "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  // Same subject as the real intermediate, different key: names match, signature does not.
  CertSpec impostor_spec;
  impostor_spec.common_name = "certsync test intermediate";
  impostor_spec.ca = true;
  const TestKey& impostor_key = TestKey::shared(KeyKind::kEcP256, 102);
  TestCert impostor = TestCert::issue(impostor_spec, impostor_key, &pki.root, &pki.root_key);
  require_refused(validate_bundle(pki.leaf.pem() + impostor.pem(), pki.leaf_key.pkcs8_pem()),
                  reason::kChainOrder);
}

TEST_CASE("The key of another certificate is refused with key_mismatch", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256, {"www.example.com"}, 0);
  const TestKey& other = TestKey::shared(KeyKind::kEcP256, 1);
  const Refusal& refused =
      require_refused(validate_bundle(pair.cert.pem(), other.pkcs8_pem()), reason::kKeyMismatch);
  CHECK(refused.message.find("tls.key does not match") != std::string::npos);
  CHECK(refused.message.find("CN=www.example.com") != std::string::npos);
  require_no_key_text(refused, other.pkcs8_pem());

  // A key of another type altogether.
  require_refused(validate_bundle(pair.cert.pem(), TestKey::shared(KeyKind::kRsa2048).pkcs8_pem()),
                  reason::kKeyMismatch);
}

TEST_CASE("A key whose private half does not belong to its public half is refused with key_invalid",
          "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256, {"www.example.com"}, 0);
  TestKey broken = TestKey::ec_franken(pair.key, TestKey::shared(KeyKind::kEcP256, 1));
  const Refusal& refused =
      require_refused(validate_bundle(pair.cert.pem(), broken.pkcs8_pem()), reason::kKeyInvalid);
  require_no_key_text(refused, broken.pkcs8_pem());
}

TEST_CASE("A PKCS#1 RSA key is accepted and handed on as its own PEM block", "[tls]") {
  Pair pair = self_signed(KeyKind::kRsa2048);
  std::string pkcs1 = pair.key.traditional_pem();
  REQUIRE(pkcs1.rfind("-----BEGIN RSA PRIVATE KEY-----", 0) == 0);
  const ValidBundle bundle = require_valid(validate_bundle(pair.cert.pem(), pkcs1));
  CHECK(bundle.key_pem.view() == pkcs1);
}

TEST_CASE("A SEC1 EC key is accepted and handed on as its own PEM block", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  std::string sec1 = pair.key.traditional_pem();
  REQUIRE(sec1.rfind("-----BEGIN EC PRIVATE KEY-----", 0) == 0);
  const ValidBundle bundle = require_valid(validate_bundle(pair.cert.pem(), sec1));
  CHECK(bundle.key_pem.view() == sec1);
}

TEST_CASE("The key handed on is the key block alone, in 64-column lines, whatever surrounded it",
          "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  const std::string pkcs8 = pair.key.pkcs8_pem();
  // The same key with a comment before it, CRLF line ends and 76-column base64 lines.
  std::string base64;
  {
    const size_t from = pkcs8.find("-----\n") + 6;
    const size_t to = pkcs8.find("-----END");
    for (char c : pkcs8.substr(from, to - from)) {
      if (c != '\n') base64 += c;
    }
  }
  std::string reflowed = "a comment\r\n-----BEGIN PRIVATE KEY-----\r\n";
  for (size_t i = 0; i < base64.size(); i += 76) reflowed += base64.substr(i, 76) + "\r\n";
  reflowed += "-----END PRIVATE KEY-----\r\ntrailing text\r\n";
  const ValidBundle bundle = require_valid(validate_bundle(pair.cert.pem(), reflowed));
  CHECK(bundle.key_pem.view() == pkcs8);
}

TEST_CASE("A SEC1 key preceded by an EC PARAMETERS block is accepted", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  // What `openssl ecparam -name prime256v1 -genkey` writes: the curve OID, then the key.
  std::string key =
      "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" +
      pair.key.traditional_pem();
  require_valid(validate_bundle(pair.cert.pem(), key));
}

TEST_CASE("An encrypted PKCS#8 key is refused with key_encrypted", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  std::string encrypted = pair.key.encrypted_pkcs8_pem("secret passphrase");
  REQUIRE(encrypted.find("ENCRYPTED PRIVATE KEY") != std::string::npos);
  const Refusal& refused =
      require_refused(validate_bundle(pair.cert.pem(), encrypted), reason::kKeyEncrypted);
  require_no_key_text(refused, encrypted);
}

TEST_CASE("A Proc-Type encrypted PKCS#1 key is refused with key_encrypted", "[tls]") {
  Pair pair = self_signed(KeyKind::kRsa2048);
  std::string encrypted = pair.key.encrypted_traditional_pem("secret passphrase");
  REQUIRE(encrypted.find("Proc-Type: 4,ENCRYPTED") != std::string::npos);
  const Refusal& refused =
      require_refused(validate_bundle(pair.cert.pem(), encrypted), reason::kKeyEncrypted);
  require_no_key_text(refused, encrypted);
}

TEST_CASE("Two private keys in tls.key are refused with key_multiple", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  std::string keys = pair.key.pkcs8_pem() + TestKey::shared(KeyKind::kEcP256, 1).pkcs8_pem();
  const Refusal refused =
      require_refused(validate_bundle(pair.cert.pem(), keys), reason::kKeyMultiple);
  require_no_key_text(refused, keys);
  // The same key twice is still two keys.
  require_refused(
      validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem() + pair.key.traditional_pem()),
      reason::kKeyMultiple);
}

TEST_CASE("CRLF line endings and text around the PEM blocks are accepted", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  std::string certs = "Certificate chain for www.example.com\n" + pki.leaf.pem() +
                      "\nsubject=CN = certsync test intermediate\n   \n" + pki.intermediate.pem() +
                      "trailing notes\n\n  \t\n";
  std::string key = "Bag Attributes: none\n" + pki.leaf_key.pkcs8_pem() + "   \n\n";
  std::string crlf_certs = replace_all(certs, "\n", "\r\n");
  std::string crlf_key = replace_all(key, "\n", "\r\n");
  // Trailing spaces after every line, too.
  std::string spaced_certs = replace_all(certs, "\n", "  \n");

  for (const auto& [cert_text, key_text] :
       {std::pair{certs, key}, std::pair{crlf_certs, crlf_key}, std::pair{spaced_certs, key}}) {
    const ValidBundle bundle = require_valid(validate_bundle(cert_text, key_text));
    CHECK(bundle.chain_length == 2);
    CHECK(bundle.cert_pem == pki.leaf.pem() + pki.intermediate.pem());
    CHECK(bundle.cert_pem.find('\r') == std::string::npos);
    CHECK(bundle.key_pem.view() == pki.leaf_key.pkcs8_pem());
  }
}

TEST_CASE("Garbage inside a certificate block is refused with cert_parse_error", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const std::string key = pki.leaf_key.pkcs8_pem();
  // Not base64 at all, in the leaf.
  require_refused(validate_bundle(corrupt_body(pki.leaf.pem(), "this is !not! base64"), key),
                  reason::kCertParseError);
  // Valid base64, but not DER, in the intermediate: refused, not skipped.
  require_refused(
      validate_bundle(pki.leaf.pem() + corrupt_body(pki.intermediate.pem(), "AAAAAAAAAAAAAAAA"),
                      key),
      reason::kCertParseError);
  // A block without its END line.
  std::string truncated = pki.intermediate.pem();
  truncated.resize(truncated.find("-----END"));
  require_refused(validate_bundle(pki.leaf.pem() + truncated, key), reason::kCertParseError);
  // A mismatched END label.
  require_refused(
      validate_bundle(replace_all(pki.leaf.pem(), "END CERTIFICATE", "END CERTIFICATES"), key),
      reason::kCertParseError);
  // A certificate with bytes after the DER structure.
  std::string padded = pki.leaf.pem();
  padded.insert(padded.find("-----END"), "AAAA\n");
  require_refused(validate_bundle(padded, key), reason::kCertParseError);
  // Text without any PEM block.
  require_refused(validate_bundle("just some text\n", key), reason::kCertParseError);
}

TEST_CASE("Garbage inside the key block is refused with key_parse_error", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  std::string key = pair.key.pkcs8_pem();
  std::string broken = corrupt_body(key, "not*base64*at*all");
  const Refusal& refused =
      require_refused(validate_bundle(pair.cert.pem(), broken), reason::kKeyParseError);
  require_no_key_text(refused, broken);

  // Valid base64 that does not decode as a key under each label.
  for (const char* label : {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}) {
    std::string fake = std::string("-----BEGIN ") + label + "-----\nMIIBAAAAAAAAAAAA\n-----END " +
                       label + "-----\n";
    require_refused(validate_bundle(pair.cert.pem(), fake), reason::kKeyParseError);
  }
  // A PKCS#1 label on an EC key.
  std::string mislabelled =
      replace_all(pair.key.traditional_pem(), "EC PRIVATE KEY", "RSA PRIVATE KEY");
  require_refused(validate_bundle(pair.cert.pem(), mislabelled), reason::kKeyParseError);
  // No PEM block at all.
  require_refused(validate_bundle(pair.cert.pem(), "not a key\n"), reason::kKeyParseError);
}

TEST_CASE("A PRIVATE KEY block in tls.crt is refused with cert_unexpected_block", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  std::string key = pair.key.pkcs8_pem();
  const Refusal& refused =
      require_refused(validate_bundle(pair.cert.pem() + key, key), reason::kCertUnexpectedBlock);
  CHECK(refused.message.find("PRIVATE KEY") != std::string::npos);
  require_no_key_text(refused, key);
}

TEST_CASE("A certificate in tls.key is refused with key_unexpected_block", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  require_refused(validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem() + pair.cert.pem()),
                  reason::kKeyUnexpectedBlock);
}

TEST_CASE("Keys that cannot sign a handshake are refused with key_unsupported", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  const Refusal refused = require_refused(
      validate_bundle(pair.cert.pem(), TestKey::shared(KeyKind::kX25519).pkcs8_pem()),
      reason::kKeyUnsupported);
  CHECK(refused.message.find("X25519") != std::string::npos);
  require_refused(validate_bundle(pair.cert.pem(),
                                  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
                                  "-----END OPENSSH PRIVATE KEY-----\n"),
                  reason::kKeyUnsupported);
}

TEST_CASE("A leaf without a subjectAltName is refused with no_usable_name", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256, {});
  const Refusal& refused = require_refused(validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem()),
                                           reason::kNoUsableName);
  CHECK(refused.message.find("CN=no-san.example.com") != std::string::npos);
}

TEST_CASE("A wildcard SAN is kept and malformed wildcards are dropped", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256, {"*.example.com", "a*.example.com", "*.*.x",
                                             "foo.*.com", "*", "api.example.com", "bad name.com"});
  const ValidBundle bundle = require_valid(validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem()));
  CHECK(bundle.snis == std::vector<std::string>{"*.example.com", "api.example.com"});
  CHECK(bundle.ignored_names ==
        std::vector<std::string>{"a*.example.com", "*.*.x", "foo.*.com", "*", "bad name.com"});
}

TEST_CASE("A leaf whose only names are malformed wildcards is refused with no_usable_name",
          "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256, {"a*.example.com", "*.*.x", "foo.*.com"});
  const Refusal& refused = require_refused(validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem()),
                                           reason::kNoUsableName);
  CHECK(refused.message.find("a*.example.com") != std::string::npos);
}

TEST_CASE("Uppercase and trailing-dot SANs are normalised and deduplicated", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256, {"WWW.Example.COM.", "www.example.com", "*.Example.Com",
                                             "Api.Example.com."});
  const ValidBundle bundle = require_valid(validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem()));
  CHECK(bundle.snis ==
        std::vector<std::string>{"www.example.com", "*.example.com", "api.example.com"});
  CHECK(bundle.ignored_names.empty());
}

TEST_CASE("An expired certificate is accepted and flagged expired", "[tls]") {
  const TestKey& key = TestKey::shared(KeyKind::kEcP256);
  CertSpec spec = leaf_spec();
  spec.not_before_offset = -10 * 86400;
  spec.not_after_offset = -86400;
  TestCert cert = TestCert::issue(spec, key);
  const ValidBundle bundle = require_valid(validate_bundle(cert.pem(), key.pkcs8_pem()));
  CHECK(bundle.expired);
  CHECK_FALSE(bundle.not_yet_valid);

  // The clock comes from the options when given.
  ValidationOptions past;
  past.now = bundle.not_after - 60;
  const ValidBundle earlier = require_valid(validate_bundle(cert.pem(), key.pkcs8_pem(), past));
  CHECK_FALSE(earlier.expired);
}

TEST_CASE("A certificate that is not valid yet is accepted and flagged not_yet_valid", "[tls]") {
  const TestKey& key = TestKey::shared(KeyKind::kEcP256);
  CertSpec spec = leaf_spec();
  spec.not_before_offset = 86400;
  spec.not_after_offset = 10 * 86400;
  TestCert cert = TestCert::issue(spec, key);
  const ValidBundle bundle = require_valid(validate_bundle(cert.pem(), key.pkcs8_pem()));
  CHECK(bundle.not_yet_valid);
  CHECK(bundle.deferred_until == bundle.not_before - 300);
  CHECK_FALSE(bundle.expired);
}

TEST_CASE("Empty or blank inputs are refused with cert_missing or key_missing", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  require_refused(validate_bundle("", pair.key.pkcs8_pem()), reason::kCertMissing);
  require_refused(validate_bundle(" \r\n\t\n", pair.key.pkcs8_pem()), reason::kCertMissing);
  require_refused(validate_bundle(pair.cert.pem(), ""), reason::kKeyMissing);
  require_refused(validate_bundle(pair.cert.pem(), "\n\n"), reason::kKeyMissing);
  require_refused(validate_bundle("", ""), reason::kCertMissing);
  require_refused(validate_bundle(std::string_view(), std::string_view()), reason::kCertMissing);
}

TEST_CASE("Inputs over 1 MiB are refused with too_large", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  const std::string cert = pair.cert.pem();
  const std::string key = pair.key.pkcs8_pem();
  const size_t limit = 1024 * 1024;

  std::string big_cert = cert + std::string(limit - cert.size() + 1, '\n');
  REQUIRE(big_cert.size() == limit + 1);
  require_refused(validate_bundle(big_cert, key), reason::kTooLarge);

  std::string big_key = key + std::string(limit - key.size() + 1, ' ');
  const Refusal refused = require_refused(validate_bundle(cert, big_key), reason::kTooLarge);
  CHECK(refused.message.find("tls.key") != std::string::npos);
  require_no_key_text(refused, key);

  // Exactly at the limit is fine.
  std::string full_cert = cert + std::string(limit - cert.size(), '\n');
  require_valid(validate_bundle(full_cert, key));
}

TEST_CASE("Refusal messages never contain any line of the key PEM", "[tls]") {
  Pair pair = self_signed(KeyKind::kRsa2048);
  const std::string key = pair.key.pkcs8_pem();
  const std::string other = TestKey::shared(KeyKind::kRsa2048, 1).pkcs8_pem();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {pair.cert.pem(), other},                      // key_mismatch
      {pair.cert.pem(), key + key},                  // key_multiple
      {pair.cert.pem() + key, key},                  // key in tls.crt
      {key, key},                                    // key instead of the certificate
      {pair.cert.pem(), corrupt_body(key, "%%%%")},  // bad base64 in the key
      {pair.cert.pem(), replace_all(key, "PRIVATE KEY", "EC PRIVATE KEY")},  // wrong type
      {pair.cert.pem(), replace_all(key, "-----END PRIVATE KEY-----", "")},  // unterminated
      {pair.cert.pem(), key + pair.cert.pem()},  // certificate in tls.key
      {pair.cert.pem(), pair.key.encrypted_traditional_pem("pw")},
      {"-----BEGIN " + key.substr(28, 64) + "-----\n", key},  // a key line as a label
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [cert_text, key_text] = cases[i];
    INFO("case " << i);
    ValidationResult result = validate_bundle(cert_text, key_text);
    REQUIRE(std::holds_alternative<Refusal>(result));
    const Refusal& refused = std::get<Refusal>(result);
    INFO("code: " << refused.code);
    require_no_key_text(refused, key);
    require_no_key_text(refused, other);
    require_no_key_text(refused, key_text);
  }
}

TEST_CASE("Validation leaves the OpenSSL error queue empty", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  ERR_clear_error();
  validate_bundle(pair.cert.pem(), corrupt_body(pair.key.pkcs8_pem(), "AAAAAAAAAAAAAAAA"));
  CHECK(ERR_peek_error() == 0);
  validate_bundle(pair.cert.pem(), TestKey::shared(KeyKind::kEcP256, 1).pkcs8_pem());
  CHECK(ERR_peek_error() == 0);
  validate_bundle(corrupt_body(pair.cert.pem(), "AAAAAAAAAAAAAAAA"), pair.key.pkcs8_pem());
  CHECK(ERR_peek_error() == 0);
  require_valid(validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem()));
  CHECK(ERR_peek_error() == 0);

  // An error the caller queued before is left in place, alone.
  ERR_raise(ERR_LIB_USER, 42);
  validate_bundle(pair.cert.pem(), corrupt_body(pair.key.pkcs8_pem(), "AAAAAAAAAAAAAAAA"));
  CHECK(ERR_GET_REASON(ERR_peek_error()) == 42);
  CHECK(ERR_GET_REASON(ERR_peek_last_error()) == 42);
  ERR_clear_error();
}

TEST_CASE("Randomly damaged bundles are either accepted or refused with a known code", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const std::string certs = pki.leaf.pem() + pki.intermediate.pem();
  const std::string key = pki.leaf_key.traditional_pem();
  const std::set<std::string_view> known(reason::kAll.begin(), reason::kAll.end());
  std::mt19937 random(20261128);
  static constexpr char kAlphabet[] = "ABCxyz019+/=-: \r\n\t*.\x00\xff";
  const std::string alphabet(kAlphabet, sizeof kAlphabet - 1);
  for (int round = 0; round < 600; ++round) {
    std::string damaged_certs = certs;
    std::string damaged_key = key;
    std::string& target = (round % 3 == 0) ? damaged_key : damaged_certs;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits && !target.empty(); ++e) {
      size_t at = random() % target.size();
      switch (random() % 3) {
        case 0:
          target[at] = alphabet[random() % alphabet.size()];
          break;
        case 1:
          target.erase(at, 1 + random() % 8);
          break;
        default:
          target.insert(at, 1, alphabet[random() % alphabet.size()]);
          break;
      }
    }
    ValidationResult result = validate_bundle(damaged_certs, damaged_key);
    if (const Refusal* refused = std::get_if<Refusal>(&result)) {
      INFO("round " << round << ": " << refused->code << ": " << refused->message);
      CHECK(known.count(refused->code) == 1);
      require_no_key_text(*refused, key);
    }
    CHECK(ERR_peek_error() == 0);
  }
}

// ---------------------------------------------------------------------------
// Key usage, key size, signature digest

namespace {

// A self-signed EC leaf for www.example.com built from `spec`, validated with `options`.
ValidationResult validate_spec(CertSpec spec, const ValidationOptions& options = {},
                               KeyKind kind = KeyKind::kEcP256) {
  const TestKey& key = TestKey::shared(kind);
  return validate_bundle(TestCert::issue(spec, key).pem(), key.pkcs8_pem(), options);
}

CertSpec with_eku(const std::string& usage) {
  CertSpec spec = leaf_spec();
  spec.extended_key_usage = usage;
  return spec;
}

}  // namespace

TEST_CASE("A leaf whose extendedKeyUsage has only clientAuth is refused with eku_not_server_auth",
          "[tls]") {
  const Refusal refused =
      require_refused(validate_spec(with_eku("clientAuth")), reason::kEkuNotServerAuth);
  CHECK(refused.message.find("clientAuth") != std::string::npos);
  CHECK(refused.message.find("CN=www.example.com") != std::string::npos);
}

TEST_CASE("A leaf whose extendedKeyUsage lists only other purposes is refused and names them",
          "[tls]") {
  const Refusal refused =
      require_refused(validate_spec(with_eku("codeSigning,emailProtection,1.3.6.1.4.1.99999.7")),
                      reason::kEkuNotServerAuth);
  CHECK(refused.message.find("codeSigning, emailProtection, 1.3.6.1.4.1.99999.7") !=
        std::string::npos);
}

TEST_CASE("A leaf whose extendedKeyUsage includes serverAuth or anyExtendedKeyUsage is accepted",
          "[tls]") {
  require_valid(validate_spec(with_eku("serverAuth")));
  require_valid(validate_spec(with_eku("clientAuth,serverAuth")));
  require_valid(validate_spec(with_eku("anyExtendedKeyUsage")));
  require_valid(validate_spec(with_eku("codeSigning,anyExtendedKeyUsage")));
}

TEST_CASE("An RSA-1024 leaf is refused with rsa_key_too_small", "[tls]") {
  const TestKey& key = TestKey::shared(KeyKind::kRsa1024);
  const Refusal refused =
      require_refused(validate_bundle(TestCert::issue(leaf_spec(), key).pem(), key.pkcs8_pem()),
                      reason::kRsaKeyTooSmall);
  CHECK(refused.message.find("1024 bits") != std::string::npos);
  require_no_key_text(refused, key.pkcs8_pem());
}

TEST_CASE("A 2047-bit RSA leaf is refused and 2048 and 3072 bits are accepted", "[tls]") {
  static const TestKey small = TestKey::rsa(2047);
  require_refused(validate_bundle(TestCert::issue(leaf_spec(), small).pem(), small.pkcs8_pem()),
                  reason::kRsaKeyTooSmall);
  CHECK(require_valid(validate_spec(leaf_spec(), {}, KeyKind::kRsa2048)).key_type == "RSA-2048");
  CHECK(require_valid(validate_spec(leaf_spec(), {}, KeyKind::kRsa3072)).key_type == "RSA-3072");
}

TEST_CASE("EC P-384, EC P-521 and Ed448 leaves are accepted", "[tls]") {
  CHECK(require_valid(validate_spec(leaf_spec(), {}, KeyKind::kEcP384)).key_type == "EC-P-384");
  CHECK(require_valid(validate_spec(leaf_spec(), {}, KeyKind::kEcP521)).key_type == "EC-P-521");
  CHECK(require_valid(validate_spec(leaf_spec(), {}, KeyKind::kEd448)).key_type == "ED448");
}

TEST_CASE("A SHA-1 signed leaf is refused with weak_signature, RSA or ECDSA", "[tls]") {
  CertSpec spec = leaf_spec();
  spec.digest = "SHA1";
  const Refusal rsa =
      require_refused(validate_spec(spec, {}, KeyKind::kRsa2048), reason::kWeakSignature);
  CHECK(rsa.message.find("sha1WithRSAEncryption") != std::string::npos);
  const Refusal ecdsa = require_refused(validate_spec(spec), reason::kWeakSignature);
  CHECK(ecdsa.message.find("ecdsa-with-SHA1") != std::string::npos);
}

TEST_CASE("An MD5 signed leaf is refused with weak_signature", "[tls]") {
  CertSpec spec = leaf_spec();
  spec.digest = "MD5";
  const Refusal refused =
      require_refused(validate_spec(spec, {}, KeyKind::kRsa2048), reason::kWeakSignature);
  CHECK(refused.message.find("MD5") != std::string::npos);
}

TEST_CASE("A SHA-1 signed intermediate is refused: nginx's OpenSSL will not serve that chain", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  CertSpec intermediate_spec;
  intermediate_spec.common_name = "certsync sha1 intermediate";
  intermediate_spec.ca = true;
  intermediate_spec.digest = "SHA1";
  TestCert intermediate =
      TestCert::issue(intermediate_spec, pki.intermediate_key, &pki.root, &pki.root_key);
  TestCert leaf = TestCert::issue(leaf_spec(), pki.leaf_key, &intermediate, &pki.intermediate_key);
  const Refusal refused = require_refused(validate_bundle(leaf.pem() + intermediate.pem(), pki.leaf_key.pkcs8_pem()),
                                          reason::kWeakSignature);
  CHECK(refused.message.find("certificate 2 in tls.crt") != std::string::npos);
}

TEST_CASE("A SHA-1 self-signature on a root at the end of tls.crt is not held against it", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  CertSpec root_spec;
  root_spec.common_name = "certsync sha1 root";
  root_spec.ca = true;
  root_spec.digest = "SHA1";
  TestCert root = TestCert::issue(root_spec, pki.root_key);
  TestCert leaf = TestCert::issue(leaf_spec(), pki.leaf_key, &root, &pki.root_key);
  require_valid(validate_bundle(leaf.pem() + root.pem(), pki.leaf_key.pkcs8_pem()));
}

TEST_CASE("The leaf checks run on tls.crt before tls.key is read", "[tls]") {
  // A weak leaf is refused for what it is, whatever tls.key holds.
  CertSpec spec = leaf_spec();
  spec.digest = "SHA1";
  const TestKey& key = TestKey::shared(KeyKind::kEcP256);
  require_refused(validate_bundle(TestCert::issue(spec, key).pem(), "not a key\n"),
                  reason::kWeakSignature);
}

// ---------------------------------------------------------------------------
// Validity and clock skew

namespace {

constexpr int64_t kNow = 1'800'000'000;  // a fixed clock: 2027-01-15

ValidBundle valid_at(int64_t not_before, int64_t skew = 300) {
  CertSpec spec = leaf_spec();
  spec.not_before_unix = not_before;
  spec.not_after_unix = kNow + 90 * 86400;
  ValidationOptions options;
  options.now = kNow;
  options.clock_skew_seconds = skew;
  return require_valid(validate_spec(spec, options));
}

}  // namespace

TEST_CASE("A notBefore within the clock skew is not flagged not_yet_valid", "[tls]") {
  for (int64_t ahead : {1, 60, 299, 300}) {
    INFO("notBefore now + " << ahead);
    const ValidBundle bundle = valid_at(kNow + ahead);
    CHECK_FALSE(bundle.not_yet_valid);
    CHECK(bundle.deferred_until == 0);
    CHECK(bundle.not_before == kNow + ahead);
  }
}

TEST_CASE("A notBefore beyond the clock skew is flagged not_yet_valid until notBefore minus skew",
          "[tls]") {
  const ValidBundle soon = valid_at(kNow + 301);
  CHECK(soon.not_yet_valid);
  CHECK(soon.not_before == kNow + 301);
  CHECK(soon.deferred_until == kNow + 1);
  CHECK_FALSE(soon.expired);

  const ValidBundle tomorrow = valid_at(kNow + 86400);
  CHECK(tomorrow.not_yet_valid);
  CHECK(tomorrow.deferred_until == kNow + 86400 - 300);
}

TEST_CASE("The clock skew is configurable and a negative skew counts as none", "[tls]") {
  CHECK_FALSE(valid_at(kNow + 3000, 3600).not_yet_valid);
  CHECK(valid_at(kNow + 1, 0).not_yet_valid);
  CHECK(valid_at(kNow + 1, 0).deferred_until == kNow + 1);
  CHECK(valid_at(kNow + 1, -600).deferred_until == kNow + 1);
  CHECK_FALSE(valid_at(kNow, 0).not_yet_valid);
}

TEST_CASE("An expired leaf is flagged at the validation time given in the options", "[tls]") {
  CertSpec spec = leaf_spec();
  spec.not_before_unix = kNow - 90 * 86400;
  spec.not_after_unix = kNow - 1;
  ValidationOptions options;
  options.now = kNow;
  const ValidBundle bundle = require_valid(validate_spec(spec, options));
  CHECK(bundle.expired);
  CHECK_FALSE(bundle.not_yet_valid);
  options.now = kNow - 1;
  CHECK_FALSE(require_valid(validate_spec(spec, options)).expired);
}

// ---------------------------------------------------------------------------
// Names: CN fallback, IP SANs, SNI override

namespace {

CertSpec cn_only(const std::string& common_name) {
  CertSpec spec;
  spec.common_name = common_name;
  return spec;
}

ValidationOptions cn_fallback_on() {
  ValidationOptions options;
  options.cn_fallback = true;
  return options;
}

ValidationOptions override_with(std::vector<std::string> names) {
  ValidationOptions options;
  options.sni_override = std::move(names);
  return options;
}

}  // namespace

TEST_CASE("The subject CN is not used as a name without cn_fallback", "[tls]") {
  const Refusal refused =
      require_refused(validate_spec(cn_only("www.example.com")), reason::kNoUsableName);
  CHECK(refused.message.find("cn_fallback") != std::string::npos);
}

TEST_CASE("With cn_fallback a leaf without any SAN is served under its CN", "[tls]") {
  const ValidBundle bundle =
      require_valid(validate_spec(cn_only("WWW.Example.com."), cn_fallback_on()));
  CHECK(bundle.snis == std::vector<std::string>{"www.example.com"});
}

TEST_CASE("With cn_fallback the CN is ignored as soon as the leaf has any SAN", "[tls]") {
  CertSpec spec = cn_only("cn.example.com");
  spec.dns_names = {"san.example.com"};
  CHECK(require_valid(validate_spec(spec, cn_fallback_on())).snis ==
        std::vector<std::string>{"san.example.com"});

  // An IP SAN is a SAN too: no CN fallback, and IPs are no SNIs.
  CertSpec ip_only = cn_only("cn.example.com");
  ip_only.ip_addresses = {"192.0.2.7"};
  require_refused(validate_spec(ip_only, cn_fallback_on()), reason::kNoUsableName);
}

TEST_CASE("With cn_fallback and an empty SAN extension the CN is used", "[tls]") {
  CertSpec spec = cn_only("www.example.com");
  spec.empty_san_extension = true;
  require_refused(validate_spec(spec), reason::kNoUsableName);
  CHECK(require_valid(validate_spec(spec, cn_fallback_on())).snis ==
        std::vector<std::string>{"www.example.com"});
}

TEST_CASE("With cn_fallback a CN that is not a host name is refused with no_usable_name", "[tls]") {
  const Refusal refused = require_refused(validate_spec(cn_only("My Web Server"), cn_fallback_on()),
                                          reason::kNoUsableName);
  CHECK(refused.message.find("My Web Server") != std::string::npos);
  require_refused(validate_spec(cn_only(""), cn_fallback_on()), reason::kNoUsableName);
}

TEST_CASE("IP SANs are recorded in ip_addresses and never become SNIs", "[tls]") {
  CertSpec spec = leaf_spec({"www.example.com"});
  spec.ip_addresses = {"192.0.2.1", "2001:db8::1", "192.0.2.1", "::ffff:198.51.100.2"};
  const ValidBundle bundle = require_valid(validate_spec(spec));
  CHECK(bundle.snis == std::vector<std::string>{"www.example.com"});
  CHECK(bundle.ip_addresses ==
        std::vector<std::string>{"192.0.2.1", "2001:db8::1", "::ffff:198.51.100.2"});
  CHECK(bundle.ignored_names.empty());
}

TEST_CASE("A leaf named only by IP SANs is refused with no_usable_name", "[tls]") {
  CertSpec spec = leaf_spec({});
  spec.ip_addresses = {"192.0.2.1"};
  const Refusal refused = require_refused(validate_spec(spec), reason::kNoUsableName);
  CHECK(refused.message.find("IP address") != std::string::npos);
}

TEST_CASE("An IP SAN of the wrong length is listed in ignored_names", "[tls]") {
  CertSpec spec = leaf_spec({"www.example.com"});
  spec.raw_ip_addresses = {std::string("\xc0\x00\x02", 3)};
  const ValidBundle bundle = require_valid(validate_spec(spec));
  CHECK(bundle.ip_addresses.empty());
  CHECK(bundle.ignored_names == std::vector<std::string>{"an IP address SAN of 3 bytes"});
}

TEST_CASE("An SNI override replaces the served names with exactly its names", "[tls]") {
  CertSpec spec = leaf_spec({"www.example.com", "api.example.com", "*.example.org"});
  const ValidBundle bundle = require_valid(
      validate_spec(spec, override_with({"API.example.com.", "a.example.org", "api.example.com"})));
  CHECK(bundle.snis == std::vector<std::string>{"api.example.com", "a.example.org"});
}

TEST_CASE("An SNI override host covered by a one-label wildcard SAN is accepted", "[tls]") {
  CertSpec spec = leaf_spec({"*.example.com"});
  CHECK(require_valid(validate_spec(spec, override_with({"shop.example.com"}))).snis ==
        std::vector<std::string>{"shop.example.com"});
  // The wildcard itself, when the certificate has it.
  CHECK(require_valid(validate_spec(spec, override_with({"*.example.com"}))).snis ==
        std::vector<std::string>{"*.example.com"});
}

TEST_CASE(
    "An SNI override naming a host the leaf does not cover is refused with "
    "sni_override_not_covered",
    "[tls]") {
  CertSpec spec = leaf_spec({"www.example.com", "*.example.org"});
  const Refusal refused =
      require_refused(validate_spec(spec, override_with({"www.example.com", "api.example.com"})),
                      reason::kSniOverrideNotCovered);
  CHECK(refused.message.find("api.example.com") != std::string::npos);
  CHECK(refused.message.find("*.example.org") != std::string::npos);
}

TEST_CASE("A wildcard SAN covers exactly one label of an SNI override host", "[tls]") {
  CertSpec spec = leaf_spec({"*.example.com"});
  require_refused(validate_spec(spec, override_with({"example.com"})),
                  reason::kSniOverrideNotCovered);
  require_refused(validate_spec(spec, override_with({"a.b.example.com"})),
                  reason::kSniOverrideNotCovered);
  require_refused(validate_spec(spec, override_with({"a.example.com.evil"})),
                  reason::kSniOverrideNotCovered);
  // A wildcard override needs the same wildcard in the certificate.
  require_refused(validate_spec(leaf_spec({"a.example.com"}), override_with({"*.example.com"})),
                  reason::kSniOverrideNotCovered);
}

TEST_CASE("A malformed SNI override name is refused with sni_override_invalid", "[tls]") {
  CertSpec spec = leaf_spec({"www.example.com"});
  for (const char* bad : {"", "bad name.example.com", "a*.example.com", "*", "www..example.com"}) {
    INFO("override: \"" << bad << "\"");
    require_refused(validate_spec(spec, override_with({bad})), reason::kSniOverrideInvalid);
  }
}

// ---------------------------------------------------------------------------
// cert-manager's temporary certificate

TEST_CASE("cert-manager's temporary certificate is accepted and flagged temporary", "[tls]") {
  const TestKey& ca_key = TestKey::shared(KeyKind::kEcP521, 1);
  CertSpec ca_spec;
  ca_spec.common_name = "cert-manager.local";
  ca_spec.ca = true;
  TestCert ca = TestCert::issue(ca_spec, ca_key);
  const TestKey& key = TestKey::shared(KeyKind::kEcP256);

  // As cert-manager makes it: the Certificate's own names, signed by the throwaway CA.
  CertSpec spec = leaf_spec({"www.example.com"});
  spec.subject_serial_number = "1234567890";
  const ValidBundle bundle = require_valid(
      validate_bundle(TestCert::issue(spec, key, &ca, &ca_key).pem(), key.pkcs8_pem()));
  CHECK(bundle.temporary);
  CHECK(bundle.issuer == "CN=cert-manager.local");
  CHECK(bundle.snis == std::vector<std::string>{"www.example.com"});

  // With cert-manager.local as the subject too.
  CertSpec local = leaf_spec({"www.example.com"});
  local.common_name = "cert-manager.local";
  CHECK(require_valid(
            validate_bundle(TestCert::issue(local, key, &ca, &ca_key).pem(), key.pkcs8_pem()))
            .temporary);
}

TEST_CASE("A leaf whose subject, not issuer, is cert-manager.local is not temporary", "[tls]") {
  CertSpec spec = leaf_spec({"www.example.com"});
  TestPki pki = TestPki::make(KeyKind::kEcP256, spec);
  CertSpec named_like_it = leaf_spec({"www.example.com"});
  named_like_it.common_name = "cert-manager.local";
  TestCert leaf =
      TestCert::issue(named_like_it, pki.leaf_key, &pki.intermediate, &pki.intermediate_key);
  CHECK_FALSE(
      require_valid(validate_bundle(leaf.pem() + pki.intermediate.pem(), pki.leaf_key.pkcs8_pem()))
          .temporary);
}

TEST_CASE("The temporary-certificate annotation flags the bundle temporary", "[tls]") {
  ValidationOptions options;
  options.temporary_certificate_annotation = true;
  CHECK(require_valid(validate_spec(leaf_spec(), options)).temporary);
}

// ---------------------------------------------------------------------------
// Chain verification to ca.crt

namespace {

ValidationOptions verify_with(const std::string& ca_pem) {
  ValidationOptions options;
  options.verify_chain = true;
  options.ca_pem = ca_pem;
  return options;
}

}  // namespace

TEST_CASE("verify_chain accepts a chain that verifies up to the root in ca.crt", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const std::string ca = pki.root.pem();
  require_valid(validate_bundle(pki.leaf.pem() + pki.intermediate.pem(), pki.leaf_key.pkcs8_pem(),
                                verify_with(ca)));
  // The root in tls.crt too is fine.
  require_valid(validate_bundle(pki.leaf.pem() + pki.intermediate.pem() + pki.root.pem(),
                                pki.leaf_key.pkcs8_pem(), verify_with(ca)));
}

TEST_CASE("verify_chain refuses a chain from another CA with chain_untrusted", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  CertSpec other_spec;
  other_spec.common_name = "certsync other root";
  other_spec.ca = true;
  const std::string other =
      TestCert::issue(other_spec, TestKey::shared(KeyKind::kEcP256, 110)).pem();
  const Refusal refused =
      require_refused(validate_bundle(pki.leaf.pem() + pki.intermediate.pem(),
                                      pki.leaf_key.pkcs8_pem(), verify_with(other)),
                      reason::kChainUntrusted);
  CHECK(refused.message.find(X509_verify_cert_error_string(
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)) != std::string::npos);
}

TEST_CASE("verify_chain refuses a leaf without its intermediate when ca.crt holds only the root",
          "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  require_refused(
      validate_bundle(pki.leaf.pem(), pki.leaf_key.pkcs8_pem(), verify_with(pki.root.pem())),
      reason::kChainUntrusted);
}

TEST_CASE("verify_chain accepts an intermediate in ca.crt as the trust anchor", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  require_valid(validate_bundle(pki.leaf.pem(), pki.leaf_key.pkcs8_pem(),
                                verify_with(pki.intermediate.pem())));
}

TEST_CASE("verify_chain accepts a self-signed leaf whose ca.crt is itself", "[tls]") {
  // cert-manager's SelfSigned issuer writes the certificate itself as ca.crt.
  Pair pair = self_signed(KeyKind::kEcP256);
  require_valid(
      validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem(), verify_with(pair.cert.pem())));
  // Another self-signed certificate is no anchor for it.
  Pair other = self_signed(KeyKind::kEcP256, {"www.example.com"}, 1);
  require_refused(
      validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem(), verify_with(other.cert.pem())),
      reason::kChainUntrusted);
}

TEST_CASE("verify_chain without ca.crt accepts the bundle", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  for (const std::string& ca : {std::string(), std::string(" \n\r\n")}) {
    require_valid(validate_bundle(pki.leaf.pem(), pki.leaf_key.pkcs8_pem(), verify_with(ca)));
  }
}

TEST_CASE("ca.crt is ignored without verify_chain", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  ValidationOptions options;
  options.ca_pem = "garbage that is not PEM\n-----END CERTIFICATE-----\n";
  require_valid(validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem(), options));
}

TEST_CASE("verify_chain leaves the leaf's own dates to the expired and not_yet_valid flags",
          "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const std::string ca = pki.root.pem();
  CertSpec expired = leaf_spec();
  expired.not_before_offset = -10 * 86400;
  expired.not_after_offset = -86400;
  TestCert old_leaf =
      TestCert::issue(expired, pki.leaf_key, &pki.intermediate, &pki.intermediate_key);
  CHECK(require_valid(validate_bundle(old_leaf.pem() + pki.intermediate.pem(),
                                      pki.leaf_key.pkcs8_pem(), verify_with(ca)))
            .expired);

  CertSpec future = leaf_spec();
  future.not_before_offset = 86400;
  TestCert new_leaf =
      TestCert::issue(future, pki.leaf_key, &pki.intermediate, &pki.intermediate_key);
  CHECK(require_valid(validate_bundle(new_leaf.pem() + pki.intermediate.pem(),
                                      pki.leaf_key.pkcs8_pem(), verify_with(ca)))
            .not_yet_valid);
}

TEST_CASE("verify_chain refuses an expired intermediate at the validation time", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  CertSpec root_spec;
  root_spec.common_name = "certsync long-lived root";
  root_spec.ca = true;
  root_spec.not_before_offset = -30 * 86400;
  pki.root = TestCert::issue(root_spec, pki.root_key);
  CertSpec old_spec;
  old_spec.common_name = "certsync old intermediate";
  old_spec.ca = true;
  old_spec.not_before_offset = -20 * 86400;
  old_spec.not_after_offset = -86400;
  TestCert old_intermediate =
      TestCert::issue(old_spec, pki.intermediate_key, &pki.root, &pki.root_key);
  TestCert leaf =
      TestCert::issue(leaf_spec(), pki.leaf_key, &old_intermediate, &pki.intermediate_key);
  const std::string certs = leaf.pem() + old_intermediate.pem();
  const Refusal refused =
      require_refused(validate_bundle(certs, pki.leaf_key.pkcs8_pem(), verify_with(pki.root.pem())),
                      reason::kChainUntrusted);
  CHECK(refused.message.find(X509_verify_cert_error_string(X509_V_ERR_CERT_HAS_EXPIRED)) !=
        std::string::npos);
  CHECK(refused.message.find("depth 1") != std::string::npos);

  // Earlier, while the intermediate was valid, the same chain verifies.
  const std::string root = pki.root.pem();  // the options only view ca.crt
  ValidationOptions earlier = verify_with(root);
  earlier.now = static_cast<int64_t>(std::time(nullptr)) - 10 * 86400;
  require_valid(validate_bundle(certs, pki.leaf_key.pkcs8_pem(), earlier));
}

TEST_CASE("verify_chain refuses a leaf CA certificate without serverAuth purpose", "[tls]") {
  // The EKU check already refuses it before verification; with no EKU the
  // purpose check of the verifier passes, so both paths agree.
  TestPki pki = TestPki::make(KeyKind::kEcP256, with_eku("clientAuth"));
  require_refused(validate_bundle(pki.leaf.pem() + pki.intermediate.pem(), pki.leaf_key.pkcs8_pem(),
                                  verify_with(pki.root.pem())),
                  reason::kEkuNotServerAuth);
}

TEST_CASE("A malformed ca.crt is refused with ca_parse_error", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const std::string certs = pki.leaf.pem() + pki.intermediate.pem();
  const std::string key = pki.leaf_key.pkcs8_pem();
  require_refused(validate_bundle(certs, key, verify_with("no PEM here\n")), reason::kCaParseError);
  require_refused(validate_bundle(certs, key, verify_with(corrupt_body(pki.root.pem(), "%%%%"))),
                  reason::kCaParseError);
  const Refusal refused = require_refused(
      validate_bundle(certs, key, verify_with(pki.root.pem() + key)), reason::kCaParseError);
  CHECK(refused.message.find("ca.crt") != std::string::npos);
  require_no_key_text(refused, key);
}

TEST_CASE("A ca.crt over the size limit is refused with too_large", "[tls]") {
  Pair pair = self_signed(KeyKind::kEcP256);
  const std::string big = pair.cert.pem() + std::string(1024 * 1024, '\n');
  const Refusal refused = require_refused(
      validate_bundle(pair.cert.pem(), pair.key.pkcs8_pem(), verify_with(big)), reason::kTooLarge);
  CHECK(refused.message.find("ca.crt") != std::string::npos);
}

// ---------------------------------------------------------------------------
// reorder_chain

namespace {

ValidationOptions reordering() {
  ValidationOptions options;
  options.reorder_chain = true;
  return options;
}

}  // namespace

TEST_CASE("With reorder_chain a chain in the wrong order is re-sorted and flagged", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const std::string ordered = pki.leaf.pem() + pki.intermediate.pem() + pki.root.pem();
  for (const std::string& shuffled : {pki.intermediate.pem() + pki.leaf.pem(),
                                      pki.root.pem() + pki.intermediate.pem() + pki.leaf.pem(),
                                      pki.intermediate.pem() + pki.root.pem() + pki.leaf.pem(),
                                      pki.leaf.pem() + pki.root.pem() + pki.intermediate.pem()}) {
    const ValidBundle bundle =
        require_valid(validate_bundle(shuffled, pki.leaf_key.pkcs8_pem(), reordering()));
    CHECK(bundle.chain_reordered);
    CHECK(ordered.rfind(bundle.cert_pem, 0) == 0);
    CHECK(bundle.subject == "CN=www.example.com");
  }
}

TEST_CASE("With reorder_chain a chain already in order is not flagged", "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  CHECK_FALSE(require_valid(validate_bundle(pki.leaf.pem() + pki.intermediate.pem(),
                                            pki.leaf_key.pkcs8_pem(), reordering()))
                  .chain_reordered);
}

TEST_CASE("With reorder_chain certificates that are not one chain are refused with chain_order",
          "[tls]") {
  TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  Pair stranger = self_signed(KeyKind::kEcP256, {"other.example.com"}, 1);
  const std::string key = pki.leaf_key.pkcs8_pem();
  // An unrelated certificate: two candidate leaves.
  require_refused(validate_bundle(pki.intermediate.pem() + pki.leaf.pem() + stranger.cert.pem(),
                                  key, reordering()),
                  reason::kChainOrder);
  // A gap: the leaf and the root without the intermediate.
  require_refused(validate_bundle(pki.root.pem() + pki.leaf.pem(), key, reordering()),
                  reason::kChainOrder);
  // The same intermediate twice: two possible issuers.
  require_refused(validate_bundle(pki.intermediate.pem() + pki.leaf.pem() + pki.intermediate.pem(),
                                  key, reordering()),
                  reason::kChainOrder);
}

// ---------------------------------------------------------------------------
// The bad-input corpus

TEST_CASE("the bad-input corpus is refused with the exact reason code", "[tls]") {
  const std::vector<certsync::testing::CorpusCase> corpus = certsync::testing::build_bad_corpus();
  std::set<std::string> names;
  std::set<std::string> codes;
  size_t refused_cases = 0;
  for (const auto& entry : corpus) {
    INFO("case " << entry.name);
    CHECK(names.insert(entry.name).second);
    CHECK(entry.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") ==
          std::string::npos);
    const ValidationResult result = validate_bundle(entry.cert_pem, entry.key_pem, entry.options());
    if (entry.expected_code == certsync::testing::kAccepted) {
      const ValidBundle bundle = require_valid(result);
      CHECK(certsync::testing::bundle_flags(bundle) == entry.expected_flags);
    } else {
      ++refused_cases;
      codes.insert(entry.expected_code);
      CHECK(reason::is_known(entry.expected_code));
      const Refusal refused = require_refused(result, entry.expected_code);
      require_no_key_text(refused, entry.key_pem);
    }
    CHECK(ERR_peek_error() == 0);
  }
  CHECK(corpus.size() >= 40);
  CHECK(refused_cases >= 40);
  // Every refusal code but internal_error has at least one case.
  for (std::string_view code : reason::kAll) {
    if (code == reason::kInternalError) continue;
    INFO("code " << code);
    CHECK(codes.count(std::string(code)) == 1);
  }
}
