#include "tls_material.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

namespace kube_test {
namespace {

std::string openssl_error(const char *what) {
  std::string msg = what;
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return msg;
}

EvpPkeyPtr new_p256_key() {
  // P-256 keeps generation instant; every client in the project accepts it.
  return EvpPkeyPtr(EVP_EC_gen("P-256"));
}

bool set_random_serial(X509 *cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return false;
  bytes[0] &= 0x7F;  // a positive serial, as RFC 5280 requires
  BIGNUM *bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  if (bn == nullptr) return false;
  bool ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  return ok;
}

bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION *ext =
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, const_cast<char *>(value));
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, valid from an hour ago (clock skew)
// for `days`; extensions are added by the caller before signing.
X509Ptr new_cert(EVP_PKEY *key, const char *cn, long days) {
  X509Ptr cert(X509_new());
  if (!cert) return nullptr;
  if (X509_set_version(cert.get(), 2) != 1) return nullptr;  // v3
  if (!set_random_serial(cert.get())) return nullptr;
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 24 * 3600);
  if (X509_set_pubkey(cert.get(), key) != 1) return nullptr;
  X509_NAME *name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_ASC,
          reinterpret_cast<const unsigned char *>(cn), -1, -1, 0) != 1) {
    return nullptr;
  }
  return cert;
}

std::string to_pem(X509 *cert) {
  BIO *bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  std::string out;
  if (PEM_write_bio_X509(bio, cert) == 1) {
    char *data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    if (len > 0) out.assign(data, static_cast<size_t>(len));
  }
  BIO_free(bio);
  return out;
}

}  // namespace

std::optional<TlsMaterial> generate_tls_material(std::string &error) {
  TlsMaterial m;
  m.ca_key = new_p256_key();
  m.server_key = new_p256_key();
  if (!m.ca_key || !m.server_key) {
    error = openssl_error("generating P-256 keys");
    return std::nullopt;
  }

  m.ca_cert = new_cert(m.ca_key.get(), "kube-api-test-server-ca", 3650);
  if (!m.ca_cert) {
    error = openssl_error("creating the CA certificate");
    return std::nullopt;
  }
  X509 *ca = m.ca_cert.get();
  if (X509_set_issuer_name(ca, X509_get_subject_name(ca)) != 1 ||
      !add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(ca, ca, NID_key_usage,
               "critical,digitalSignature,keyCertSign,cRLSign") ||
      !add_ext(ca, ca, NID_subject_key_identifier, "hash") ||
      X509_sign(ca, m.ca_key.get(), EVP_sha256()) == 0) {
    error = openssl_error("signing the CA certificate");
    return std::nullopt;
  }

  m.server_cert = new_cert(m.server_key.get(), "kube-apiserver", 365);
  if (!m.server_cert) {
    error = openssl_error("creating the server certificate");
    return std::nullopt;
  }
  X509 *srv = m.server_cert.get();
  if (X509_set_issuer_name(srv, X509_get_subject_name(ca)) != 1 ||
      !add_ext(srv, ca, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(srv, ca, NID_key_usage, "critical,digitalSignature") ||
      !add_ext(srv, ca, NID_ext_key_usage, "serverAuth") ||
      !add_ext(srv, ca, NID_subject_key_identifier, "hash") ||
      !add_ext(srv, ca, NID_authority_key_identifier, "keyid:always") ||
      !add_ext(srv, ca, NID_subject_alt_name,
               "IP:127.0.0.1,IP:::1,DNS:localhost") ||
      X509_sign(srv, m.ca_key.get(), EVP_sha256()) == 0) {
    error = openssl_error("signing the server certificate");
    return std::nullopt;
  }

  m.ca_cert_pem = to_pem(ca);
  m.server_cert_pem = to_pem(srv);
  if (m.ca_cert_pem.empty() || m.server_cert_pem.empty()) {
    error = openssl_error("encoding certificates as PEM");
    return std::nullopt;
  }
  return m;
}

}  // namespace kube_test
