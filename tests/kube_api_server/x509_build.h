// Building blocks for the certificates the server makes itself: its own TLS
// identity (tls_material) and the Secrets it generates for benchmarks
// (secret_generator). OpenSSL C API; every function returns null/empty/false
// when OpenSSL fails, and openssl_error() then says why.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>

#include "tls_material.h"

namespace kube_test {

// `what`, followed by OpenSSL's first queued error (the queue is cleared).
std::string openssl_error(const char *what);

EvpPkeyPtr new_p256_key();
EvpPkeyPtr new_rsa_key(int bits);

// A certificate for `key` named `cn`, valid from an hour ago (clock skew)
// for `days`, with a random positive serial; the caller sets the issuer, adds
// extensions and signs.
X509Ptr new_cert(EVP_PKEY *key, const char *cn, long days);

// Adds one extension given in openssl.cnf syntax ("critical,CA:TRUE").
bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value);

std::string to_pem(X509 *cert);
// PKCS#8 PEM of a private key, unencrypted.
std::string private_key_to_pem(EVP_PKEY *key);

}  // namespace kube_test
