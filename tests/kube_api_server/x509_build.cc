#include "x509_build.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

namespace kube_test {
namespace {

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

// What a PEM writer put into a memory BIO, or "" when it failed.
template <typename Write>
std::string pem_of(Write write) {
  BIO *bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  std::string out;
  if (write(bio) == 1) {
    char *data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    if (len > 0) out.assign(data, static_cast<size_t>(len));
  }
  BIO_free(bio);
  return out;
}

}  // namespace

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

EvpPkeyPtr new_rsa_key(int bits) {
  return EvpPkeyPtr(EVP_RSA_gen(static_cast<unsigned int>(bits)));
}

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

std::string to_pem(X509 *cert) {
  return pem_of([cert](BIO *bio) { return PEM_write_bio_X509(bio, cert); });
}

std::string private_key_to_pem(EVP_PKEY *key) {
  return pem_of([key](BIO *bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr,
                                    nullptr);
  });
}

}  // namespace kube_test
