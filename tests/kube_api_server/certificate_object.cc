#include "certificate_object.h"

#include <vector>

#include "server_context.h"

namespace kube_test {
namespace {

constexpr char kApiVersion[] = "cert-manager.io/v1";
constexpr char kGroup[] = "cert-manager.io";

std::string text_at(const Json &object, const char *a, const char *b = nullptr) {
  if (!object.is_object() || !object.contains(a) || !object[a].is_object()) {
    return "";
  }
  const Json &inner = object[a];
  if (b == nullptr) return "";
  auto it = inner.find(b);
  return it != inner.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

ObjectKind certificate_kind() {
  ObjectKind kind;
  kind.kind = "Certificate";
  kind.list_kind = "CertificateList";
  kind.api_version = kApiVersion;
  kind.resource = "certificates";
  kind.group = kGroup;
  kind.canonical = canonical_certificate;
  return kind;
}

int cert_manager_mode(const std::string &name) {
  if (name == "served") return kCertManagerServed;
  if (name == "forbidden") return kCertManagerForbidden;
  return kCertManagerAbsent;
}

std::optional<ApiError> decode_certificate(const Json &body,
                                           const std::string &url_namespace,
                                           Json &out) {
  if (!body.is_object()) {
    return bad_request("the body of a Certificate must be a JSON object");
  }
  const std::string kind = body.value("kind", std::string("Certificate"));
  const std::string version = body.value("apiVersion", std::string(kApiVersion));
  if (kind != "Certificate" || version != kApiVersion) {
    return bad_request("the API version in the data (" + version +
                       ") does not match the expected API version (" +
                       kApiVersion + ") or kind " + kind + " is not Certificate");
  }
  out = body;
  if (!out.contains("metadata") || !out["metadata"].is_object()) {
    out["metadata"] = Json::object();
  }
  Json &meta = out["metadata"];
  const std::string ns = meta.value("namespace", std::string());
  if (!ns.empty() && ns != url_namespace) {
    return bad_request("the namespace of the provided object does not match "
                       "the namespace sent on the request");
  }
  meta["namespace"] = url_namespace;
  if (!out.contains("spec") || !out["spec"].is_object()) {
    out["spec"] = Json::object();
  }
  return std::nullopt;
}

std::optional<ApiError> validate_certificate(const Json &certificate) {
  std::vector<StatusCause> causes;
  const std::string name = text_at(certificate, "metadata", "name");
  if (name.empty()) {
    causes.push_back({"FieldValueRequired", "Required value", "metadata.name"});
  }
  if (text_at(certificate, "spec", "secretName").empty()) {
    causes.push_back({"FieldValueRequired", "Required value", "spec.secretName"});
  }
  const Json spec =
      certificate.contains("spec") ? certificate["spec"] : Json::object();
  if (!spec.contains("issuerRef") || text_at(spec, "issuerRef", "name").empty()) {
    causes.push_back(
        {"FieldValueRequired", "Required value", "spec.issuerRef.name"});
  }
  if (causes.empty()) return std::nullopt;
  return invalid(name, causes, "Certificate", kGroup);
}

Json canonical_certificate(const Json &certificate) {
  Json out;
  out["apiVersion"] = kApiVersion;
  out["kind"] = "Certificate";
  out["metadata"] =
      certificate.contains("metadata") ? certificate["metadata"] : Json::object();
  out["spec"] = certificate.contains("spec") ? certificate["spec"] : Json::object();
  if (certificate.contains("status") && !certificate["status"].is_null()) {
    out["status"] = certificate["status"];
  }
  return out;
}

}  // namespace kube_test
