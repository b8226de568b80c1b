// Secret: the parts of a Kubernetes Secret that certsync uses, decoded from
// the API's JSON. Which types are watched at all is the scope's business (the
// secret_types setting, a server-side filter); within them, whether it is a
// TLS Secret is decided by its data keys, not its type: cert-manager keeps
// the type of a Secret that existed before (possibly Opaque), so a watched
// Secret holding tls.crt and tls.key counts.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

#include "util/secret_bytes.h"

namespace certsync::kube {

// The per-Secret annotation that restricts or overrides the names a
// certificate is served for: comma-separated host names, each of which the
// certificate must cover.
inline constexpr const char* kServerNamesAnnotation = "certsync.io/server-names";
inline constexpr const char* kTemporaryCertificateAnnotation = "cert-manager.io/issue-temporary-certificate";

struct Secret {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string type;  // "Opaque" when the object names none, as the API server stores it
  bool has_tls_keys = false;  // data holds both tls.crt and tls.key
  std::string tls_crt;        // decoded PEM text
  SecretBytes tls_key;        // decoded PEM text
  std::string ca_crt;         // decoded ca.crt, when present
  // Annotations that change how the bundle is validated and served.
  bool temporary_annotation = false;   // cert-manager.io/issue-temporary-certificate: "true"
  std::string server_names_annotation;  // kServerNamesAnnotation, as written (comma-separated)
  // SHA-256 over everything above that validation reads: an update whose
  // digest is unchanged (labels, other annotations, managedFields) is not
  // validated again.
  std::string data_digest;

  std::string id() const { return namespace_name + "/" + name; }
};

// Decodes a Secret object. Returns an error message naming the field when the
// object is malformed.
std::variant<Secret, std::string> decode_secret(const nlohmann::json& object);

// Overwrites every value under data and stringData, so the JSON tree of a
// Secret (any Secret of the namespace, not only TLS ones) does not keep
// secrets in memory after it has been looked at.
void cleanse_secret_data(nlohmann::json& object);

}  // namespace certsync::kube
