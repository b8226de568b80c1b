#include "tls_test_certs.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <map>
#include <stdexcept>
#include <utility>

#include "tls/ossl_ptr.h"

namespace certsync::testing {
namespace {

using tls::ossl::BignumPtr;
using tls::ossl::BioPtr;
using tls::ossl::Deleter;
using tls::ossl::PkeyCtxPtr;

using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using GeneralNamesPtr = tls::ossl::GeneralNamesPtr;

// Fixture code fails loudly: Catch2 reports the exception in the test case.
void check(bool ok, const char* what) {
  if (!ok) {
    ERR_clear_error();
    throw std::runtime_error(std::string("test fixture: ") + what);
  }
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : std::string();
}

BioPtr memory_bio() {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio != nullptr, "BIO_new");
  return bio;
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  check(extension != nullptr, "X509V3_EXT_nconf_nid");
  check(X509_add_ext(cert, extension.get(), -1) == 1, "X509_add_ext");
}

// One SAN entry of `type` holding `bytes` as an IA5String (DNS) or an OCTET
// STRING (IP address).
void push_name(GENERAL_NAMES* sans, int type, const std::string& bytes) {
  GENERAL_NAME* entry = GENERAL_NAME_new();
  ASN1_STRING* value = type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
  check(entry != nullptr && value != nullptr, "GENERAL_NAME_new");
  check(ASN1_STRING_set(value, bytes.data(), static_cast<int>(bytes.size())) == 1,
        "ASN1_STRING_set");
  GENERAL_NAME_set0_value(entry, type, value);
  check(sk_GENERAL_NAME_push(sans, entry) > 0, "sk_GENERAL_NAME_push");
}

// SANs are built by hand so any string (odd wildcards, upper case, trailing
// dots, IP addresses of any length) lands in the certificate exactly as given.
void add_names(X509* cert, const CertSpec& spec) {
  if (spec.dns_names.empty() && spec.ip_addresses.empty() && spec.raw_ip_addresses.empty() &&
      !spec.empty_san_extension) {
    return;
  }
  GeneralNamesPtr sans(GENERAL_NAMES_new());
  check(sans != nullptr, "GENERAL_NAMES_new");
  for (const std::string& name : spec.dns_names) push_name(sans.get(), GEN_DNS, name);
  for (const std::string& text : spec.ip_addresses) {
    tls::ossl::Deleter<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free> free_octets;
    std::unique_ptr<ASN1_OCTET_STRING, decltype(free_octets)> address(a2i_IPADDRESS(text.c_str()));
    check(address != nullptr, "a2i_IPADDRESS");
    push_name(sans.get(), GEN_IPADD,
              std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(address.get())),
                          static_cast<size_t>(ASN1_STRING_length(address.get()))));
  }
  for (const std::string& bytes : spec.raw_ip_addresses) push_name(sans.get(), GEN_IPADD, bytes);
  check(X509_add1_ext_i2d(cert, NID_subject_alt_name, sans.get(), 0, X509V3_ADD_DEFAULT) == 1,
        "X509_add1_ext_i2d");
}

const EVP_MD* signing_digest(EVP_PKEY* key, const std::string& name) {
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) return nullptr;
  const EVP_MD* digest = EVP_get_digestbyname(name.c_str());
  check(digest != nullptr, "unknown digest name");
  return digest;
}

void set_time(ASN1_TIME* time, int64_t unix_seconds, int64_t offset) {
  if (unix_seconds != 0) {
    check(ASN1_TIME_set(time, static_cast<time_t>(unix_seconds)) != nullptr, "ASN1_TIME_set");
  } else {
    check(X509_gmtime_adj(time, static_cast<long>(offset)) != nullptr, "X509_gmtime_adj");
  }
}

}  // namespace

TestKey::TestKey(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {
  check(key != nullptr, "key generation");
}

TestKey TestKey::generate(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEcP256:
      return TestKey(EVP_EC_gen("P-256"));
    case KeyKind::kRsa2048:
      return TestKey(EVP_RSA_gen(2048));
    case KeyKind::kEd25519:
      return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    case KeyKind::kX25519:
      return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
    case KeyKind::kRsa1024:
      return rsa(1024);
    case KeyKind::kRsa3072:
      return rsa(3072);
    case KeyKind::kEcP384:
      return TestKey(EVP_EC_gen("P-384"));
    case KeyKind::kEcP521:
      return TestKey(EVP_EC_gen("P-521"));
    case KeyKind::kEd448:
      return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
  }
  throw std::logic_error("unknown key kind");
}

TestKey TestKey::rsa(int bits) { return TestKey(EVP_RSA_gen(static_cast<unsigned int>(bits))); }

const TestKey& TestKey::shared(KeyKind kind, int slot) {
  static std::map<std::pair<KeyKind, int>, TestKey> keys;
  auto found = keys.find({kind, slot});
  if (found == keys.end()) found = keys.emplace(std::make_pair(kind, slot), generate(kind)).first;
  return found->second;
}

TestKey TestKey::ec_franken(const TestKey& public_half, const TestKey& private_half) {
  size_t public_size = 0;
  check(EVP_PKEY_get_octet_string_param(public_half.get(), OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0,
                                        &public_size) == 1,
        "public key size");
  std::vector<unsigned char> public_point(public_size);
  check(
      EVP_PKEY_get_octet_string_param(public_half.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                      public_point.data(), public_point.size(), &public_size) == 1,
      "public key");
  BIGNUM* raw_scalar = nullptr;
  check(EVP_PKEY_get_bn_param(private_half.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw_scalar) == 1,
        "private scalar");
  BignumPtr scalar(raw_scalar);

  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  check(builder != nullptr, "OSSL_PARAM_BLD_new");
  check(OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                        0) == 1 &&
            OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                             public_point.data(), public_size) == 1 &&
            OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, scalar.get()) == 1,
        "OSSL_PARAM_BLD_push");
  ParamPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
  check(params != nullptr, "OSSL_PARAM_BLD_to_param");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  check(ctx != nullptr && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
            EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEYPAIR, params.get()) == 1,
        "EVP_PKEY_fromdata");
  return TestKey(key);
}

std::string TestKey::pkcs8_pem() const {
  BioPtr bio = memory_bio();
  check(PEM_write_bio_PrivateKey(bio.get(), get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  return bio_text(bio.get());
}

std::string TestKey::traditional_pem() const {
  BioPtr bio = memory_bio();
  check(PEM_write_bio_PrivateKey_traditional(bio.get(), get(), nullptr, nullptr, 0, nullptr,
                                             nullptr) == 1,
        "PEM_write_bio_PrivateKey_traditional");
  return bio_text(bio.get());
}

std::string TestKey::encrypted_pkcs8_pem(const std::string& passphrase) const {
  BioPtr bio = memory_bio();
  check(PEM_write_bio_PKCS8PrivateKey(bio.get(), get(), EVP_aes_256_cbc(), passphrase.data(),
                                      static_cast<int>(passphrase.size()), nullptr, nullptr) == 1,
        "PEM_write_bio_PKCS8PrivateKey");
  return bio_text(bio.get());
}

std::string TestKey::encrypted_traditional_pem(const std::string& passphrase) const {
  BioPtr bio = memory_bio();
  std::vector<unsigned char> pass(passphrase.begin(), passphrase.end());
  check(PEM_write_bio_PrivateKey_traditional(bio.get(), get(), EVP_aes_128_cbc(), pass.data(),
                                             static_cast<int>(pass.size()), nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey_traditional (encrypted)");
  return bio_text(bio.get());
}

std::string TestKey::public_pem() const {
  BioPtr bio = memory_bio();
  check(PEM_write_bio_PUBKEY(bio.get(), get()) == 1, "PEM_write_bio_PUBKEY");
  return bio_text(bio.get());
}

TestCert::TestCert(X509* cert) : cert_(cert, X509_free) { check(cert != nullptr, "X509_new"); }

TestCert TestCert::issue(const CertSpec& spec, const TestKey& subject_key, const TestCert* issuer,
                         const TestKey* issuer_key) {
  check((issuer == nullptr) == (issuer_key == nullptr), "issuer and issuer_key go together");
  TestCert made(X509_new());
  X509* cert = made.get();
  check(X509_set_version(cert, X509_VERSION_3) == 1, "X509_set_version");

  BignumPtr serial(BN_new());
  check(serial != nullptr && BN_rand(serial.get(), 64, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1 &&
            BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr,
        "serial");

  X509_NAME* subject = X509_get_subject_name(cert);
  if (!spec.subject_serial_number.empty()) {
    check(X509_NAME_add_entry_by_txt(
              subject, "serialNumber", MBSTRING_ASC,
              reinterpret_cast<const unsigned char*>(spec.subject_serial_number.c_str()), -1, -1,
              0) == 1,
          "subject serialNumber");
  }
  if (!spec.common_name.empty()) {
    check(X509_NAME_add_entry_by_txt(
              subject, "CN", MBSTRING_UTF8,
              reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0) == 1,
          "subject CN");
  }
  check(X509_set_issuer_name(
            cert, issuer != nullptr ? X509_get_subject_name(issuer->get()) : subject) == 1,
        "issuer name");
  set_time(X509_getm_notBefore(cert), spec.not_before_unix, spec.not_before_offset);
  set_time(X509_getm_notAfter(cert), spec.not_after_unix, spec.not_after_offset);
  check(X509_set_pubkey(cert, subject_key.get()) == 1, "X509_set_pubkey");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->get() : cert, cert, nullptr, nullptr, 0);
  if (spec.ca) {
    add_extension(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, &ctx, NID_key_usage, "critical,digitalSignature");
  }
  add_extension(cert, &ctx, NID_subject_key_identifier, "hash");
  add_extension(cert, &ctx, NID_authority_key_identifier, "keyid");
  add_names(cert, spec);
  if (!spec.extended_key_usage.empty()) {
    add_extension(cert, &ctx, NID_ext_key_usage, spec.extended_key_usage.c_str());
  }

  EVP_PKEY* signer = issuer_key != nullptr ? issuer_key->get() : subject_key.get();
  check(X509_sign(cert, signer, signing_digest(signer, spec.digest)) > 0, "X509_sign");
  return made;
}

std::string TestCert::pem() const {
  BioPtr bio = memory_bio();
  check(PEM_write_bio_X509(bio.get(), get()) == 1, "PEM_write_bio_X509");
  return bio_text(bio.get());
}

TestPki TestPki::make(KeyKind leaf_kind, const CertSpec& leaf_spec) {
  const TestKey& root_key = TestKey::shared(KeyKind::kEcP256, 100);
  const TestKey& intermediate_key = TestKey::shared(KeyKind::kEcP256, 101);
  const TestKey& leaf_key = TestKey::shared(leaf_kind, 0);

  CertSpec root_spec;
  root_spec.common_name = "certsync test root";
  root_spec.ca = true;
  TestCert root = TestCert::issue(root_spec, root_key);

  CertSpec intermediate_spec;
  intermediate_spec.common_name = "certsync test intermediate";
  intermediate_spec.ca = true;
  TestCert intermediate = TestCert::issue(intermediate_spec, intermediate_key, &root, &root_key);

  TestCert leaf = TestCert::issue(leaf_spec, leaf_key, &intermediate, &intermediate_key);
  return TestPki{root_key, intermediate_key, leaf_key, root, intermediate, leaf};
}

}  // namespace certsync::testing
