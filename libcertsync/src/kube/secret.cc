#include "kube/secret.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <initializer_list>

#include "kube/scope.h"
#include "util/base64.h"

namespace certsync::kube {

namespace {

const std::string* string_field(const nlohmann::json& parent, const char* key) {
  if (!parent.is_object()) return nullptr;
  auto it = parent.find(key);
  if (it == parent.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

std::string sha256_hex(std::initializer_list<std::string_view> parts) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const char separator = '\0';
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (std::string_view part : parts) {
    EVP_DigestUpdate(ctx, part.data(), part.size());
    EVP_DigestUpdate(ctx, &separator, 1);
  }
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_MD_CTX_free(ctx);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

}  // namespace

std::variant<Secret, std::string> decode_secret(const nlohmann::json& object) {
  if (!object.is_object()) return std::string("the object is not a JSON object");
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object())
    return std::string("the object has no metadata");
  Secret secret;
  const std::string* name = string_field(*metadata, "name");
  const std::string* ns = string_field(*metadata, "namespace");
  if (name == nullptr || name->empty()) return std::string("metadata.name is missing");
  if (ns == nullptr || ns->empty()) return std::string("metadata.namespace is missing");
  secret.name = *name;
  secret.namespace_name = *ns;
  if (const std::string* uid = string_field(*metadata, "uid")) secret.uid = *uid;
  if (const std::string* rv = string_field(*metadata, "resourceVersion")) secret.resource_version = *rv;
  if (const std::string* type = string_field(object, "type")) secret.type = *type;
  // The API server stores a Secret created without a type as Opaque; the
  // store compares types to tell which scope a Secret came from.
  if (secret.type.empty()) secret.type = kDefaultSecretType;
  auto annotations = metadata->find("annotations");
  if (annotations != metadata->end() && annotations->is_object()) {
    if (const std::string* value = string_field(*annotations, kTemporaryCertificateAnnotation))
      secret.temporary_annotation = *value == "true";
    if (const std::string* value = string_field(*annotations, kServerNamesAnnotation))
      secret.server_names_annotation = *value;
  }

  auto data = object.find("data");
  if (data == object.end() || !data->is_object()) return secret;
  auto crt = data->find("tls.crt");
  auto key = data->find("tls.key");
  if (crt == data->end() || key == data->end()) return secret;
  if (!crt->is_string()) return std::string("data[tls.crt] is not a string");
  if (!key->is_string()) return std::string("data[tls.key] is not a string");
  secret.has_tls_keys = true;

  std::optional<std::string> key_bytes = base64_decode(key->get_ref<const std::string&>());
  if (!key_bytes) return std::string("data[tls.key] is not valid base64");
  secret.tls_key = SecretBytes(*key_bytes);
  OPENSSL_cleanse(key_bytes->data(), key_bytes->size());

  std::optional<std::string> crt_bytes = base64_decode(crt->get_ref<const std::string&>());
  if (!crt_bytes) return std::string("data[tls.crt] is not valid base64");
  secret.tls_crt = std::move(*crt_bytes);
  auto ca = data->find("ca.crt");
  if (ca != data->end() && ca->is_string()) {
    std::optional<std::string> ca_bytes = base64_decode(ca->get_ref<const std::string&>());
    if (!ca_bytes) return std::string("data[ca.crt] is not valid base64");
    secret.ca_crt = std::move(*ca_bytes);
  }
  secret.data_digest = sha256_hex({secret.tls_crt, secret.tls_key.view(), secret.ca_crt,
                                   secret.temporary_annotation ? "temporary" : "", secret.server_names_annotation});
  return secret;
}

void cleanse_secret_data(nlohmann::json& object) {
  if (!object.is_object()) return;
  for (const char* field : {"data", "stringData"}) {
    auto data = object.find(field);
    if (data == object.end() || !data->is_object()) continue;
    for (auto& value : *data) {
      if (!value.is_string()) continue;
      auto& text = value.get_ref<std::string&>();
      OPENSSL_cleanse(text.data(), text.size());
    }
  }
}

}  // namespace certsync::kube
