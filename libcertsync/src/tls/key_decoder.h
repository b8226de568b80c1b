// Private keys from DER through a decoder context kept per thread.
//
// OpenSSL 3.0 builds a chain of decoders for every key it decodes
// (OSSL_DECODER_CTX_new_for_pkey, under EVP_PKCS82PKEY and d2i_PrivateKey),
// and building it costs many times the decoding: profiled, it was 40 % of
// validating an ECDSA bundle. A context made once per thread, input
// structure and key type is reused for every key that thread decodes.
// Thread-safe (every thread has its own contexts).
#pragma once

#include <openssl/evp.h>

#include <cstddef>

#include "tls/ossl_ptr.h"

namespace certsync::tls {

// `structure`: "PrivateKeyInfo" (PKCS#8) or "type-specific" (PKCS#1, SEC1);
// `key_type`: "RSA", "EC", or nullptr for any. The whole input must be one
// key: trailing bytes make it fail. nullptr on any failure (the OpenSSL
// error queue says why).
ossl::PkeyPtr decode_private_key_der(const char* structure, const char* key_type, const unsigned char* der,
                                     size_t len);

}  // namespace certsync::tls
