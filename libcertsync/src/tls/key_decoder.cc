#include "tls/key_decoder.h"

#include <openssl/core_names.h>
#include <openssl/decoder.h>

#include <map>
#include <string>

namespace certsync::tls {
namespace {

// One reusable context; it writes each decoded key into `out`, which
// therefore must not move (the map's nodes do not).
struct Decoder {
  OSSL_DECODER_CTX* ctx = nullptr;
  EVP_PKEY* out = nullptr;
  Decoder() = default;
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  ~Decoder() {
    EVP_PKEY_free(out);
    OSSL_DECODER_CTX_free(ctx);
  }
};

Decoder& decoder_for(const char* structure, const char* key_type) {
  thread_local std::map<std::string, Decoder> decoders;
  Decoder& decoder = decoders[std::string(structure) + "/" + (key_type ? key_type : "")];
  if (decoder.ctx == nullptr) {
    decoder.ctx = OSSL_DECODER_CTX_new_for_pkey(&decoder.out, "DER", structure, key_type,
                                                OSSL_KEYMGMT_SELECT_KEYPAIR, nullptr, nullptr);
  }
  return decoder;
}

}  // namespace

ossl::PkeyPtr decode_private_key_der(const char* structure, const char* key_type, const unsigned char* der,
                                     size_t len) {
  Decoder& decoder = decoder_for(structure, key_type);
  if (decoder.ctx == nullptr) return nullptr;
  EVP_PKEY_free(decoder.out);
  decoder.out = nullptr;
  const unsigned char* cursor = der;
  size_t left = len;
  const bool decoded = OSSL_DECODER_from_data(decoder.ctx, &cursor, &left) == 1;
  ossl::PkeyPtr key(decoder.out);
  decoder.out = nullptr;
  if (!decoded || left != 0) return nullptr;
  return key;
}

}  // namespace certsync::tls
