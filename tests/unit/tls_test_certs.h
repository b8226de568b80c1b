// Test fixtures for the tls/ tests: keys and certificates made at run time
// with the OpenSSL C API, handed out as PEM. No key is ever stored in the repo.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace certsync::testing {

enum class KeyKind {
  kEcP256,
  kRsa2048,
  kEd25519,
  kX25519,
  kRsa1024,
  kRsa3072,
  kEcP384,
  kEcP521,
  kEd448,
};

class TestKey {
 public:
  // A fresh key. RSA generation is slow: prefer shared() when any key will do.
  static TestKey generate(KeyKind kind);
  // A fresh RSA key of any size (2047 bits, ...).
  static TestKey rsa(int bits);
  // One key per (kind, slot), generated on first use and reused afterwards.
  static const TestKey& shared(KeyKind kind, int slot = 0);
  // An EC P-256 key whose public half is `public_half`'s and whose private
  // scalar is `private_half`'s: an internally inconsistent key.
  static TestKey ec_franken(const TestKey& public_half, const TestKey& private_half);

  std::string pkcs8_pem() const;                                         // PRIVATE KEY
  std::string traditional_pem() const;                                   // RSA / EC PRIVATE KEY
  std::string encrypted_pkcs8_pem(const std::string& passphrase) const;  // ENCRYPTED PRIVATE KEY
  std::string encrypted_traditional_pem(
      const std::string& passphrase) const;  // Proc-Type: 4,ENCRYPTED
  std::string public_pem() const;            // PUBLIC KEY (SubjectPublicKeyInfo)

  EVP_PKEY* get() const { return key_.get(); }

 private:
  explicit TestKey(EVP_PKEY* key);
  std::shared_ptr<EVP_PKEY> key_;
};

struct CertSpec {
  std::string common_name = "certsync test";  // no CN when empty
  std::vector<std::string> dns_names;         // DNS SANs, as given
  std::vector<std::string> ip_addresses;      // IP SANs as text ("192.0.2.1", "2001:db8::1")
  std::vector<std::string> raw_ip_addresses;  // IP SANs as raw bytes, any length
  // The SAN extension holds the names above; without any, there is none
  // unless empty_san_extension asks for one with no entries.
  bool empty_san_extension = false;
  // extendedKeyUsage as an X509v3 config value ("serverAuth,clientAuth",
  // "codeSigning", an OID); no extension when empty.
  std::string extended_key_usage;
  // Digest of the issuer's signature: "SHA256", "SHA1", "MD5", ... (ignored
  // for Ed25519/Ed448 issuers, which sign without one).
  std::string digest = "SHA256";
  int64_t not_before_offset = -3600;  // seconds relative to now
  int64_t not_after_offset = 30 * 86400;
  int64_t not_before_unix = 0;  // absolute Unix times; override the offsets when non-zero
  int64_t not_after_unix = 0;
  std::string subject_serial_number;  // a serialNumber attribute in the subject, when set
  bool ca = false;
};

class TestCert {
 public:
  // Issues a certificate for `subject_key`. issuer == nullptr: self-signed
  // with subject_key; otherwise signed by issuer_key in issuer's name.
  static TestCert issue(const CertSpec& spec, const TestKey& subject_key,
                        const TestCert* issuer = nullptr, const TestKey* issuer_key = nullptr);

  std::string pem() const;
  X509* get() const { return cert_.get(); }

 private:
  explicit TestCert(X509* cert);
  std::shared_ptr<X509> cert_;
};

// A root CA, an intermediate CA signed by it, and a leaf signed by the intermediate.
struct TestPki {
  TestKey root_key;
  TestKey intermediate_key;
  TestKey leaf_key;
  TestCert root;
  TestCert intermediate;
  TestCert leaf;

  static TestPki make(KeyKind leaf_kind, const CertSpec& leaf_spec);
};

}  // namespace certsync::testing
