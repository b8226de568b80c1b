// RAII owners for the OpenSSL objects the tls/ code creates.
//
// Every OpenSSL allocation in this directory goes straight into one of these
// unique_ptrs, so early returns and exceptions cannot leak. Private to tls/.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/buffer.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>

namespace certsync::tls::ossl {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept {
    if (p != nullptr) Free(p);
  }
};

using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using P8InfoPtr =
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, Deleter<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using ExtendedKeyUsagePtr =
    std::unique_ptr<EXTENDED_KEY_USAGE, Deleter<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

// A stack of X509 pointers it does not own (sk_X509_free frees only the stack).
inline void x509_stack_free_shallow(STACK_OF(X509) * stack) { sk_X509_free(stack); }
using X509RefStackPtr =
    std::unique_ptr<STACK_OF(X509), Deleter<STACK_OF(X509), x509_stack_free_shallow>>;

// BIO_free returns int, so it needs a small adapter to fit Deleter.
inline void bio_free_all(BIO* b) { BIO_free_all(b); }
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, bio_free_all>>;

// Strings OpenSSL allocates for us (BN_bn2hex, ...).
inline void openssl_string_free(char* s) { OPENSSL_free(s); }
using OsslStringPtr = std::unique_ptr<char, Deleter<char, openssl_string_free>>;
inline void openssl_bytes_free(unsigned char* s) { OPENSSL_free(s); }
using OsslBytesPtr = std::unique_ptr<unsigned char, Deleter<unsigned char, openssl_bytes_free>>;

// A memory BIO whose contents are wiped before it is freed: used for every BIO
// that may hold private key bytes.
inline void secret_bio_free(BIO* b) {
  BUF_MEM* mem = nullptr;
  if (BIO_get_mem_ptr(b, &mem) == 1 && mem != nullptr && mem->data != nullptr) {
    OPENSSL_cleanse(mem->data, mem->max);
  }
  BIO_free_all(b);
}
using SecretBioPtr = std::unique_ptr<BIO, Deleter<BIO, secret_bio_free>>;

}  // namespace certsync::tls::ossl
