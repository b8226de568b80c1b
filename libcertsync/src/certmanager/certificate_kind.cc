#include "certmanager/certificate_kind.h"

#include "kube/scope.h"

namespace certsync::certmanager {

std::string CertificateKind::describe() const {
  return namespace_name_.empty() ? "all namespaces" : "namespace " + namespace_name_;
}

std::string CertificateKind::collection_path() const {
  return "/apis/cert-manager.io/v1" +
         (namespace_name_.empty() ? std::string() : "/namespaces/" + kube::query_escape(namespace_name_)) +
         "/certificates";
}

std::optional<Certificate> CertificateKind::decode(const nlohmann::json& object) {
  auto decoded = decode_certificate(object);
  if (auto* error = std::get_if<std::string>(&decoded)) {
    log_.push(LogLevel::kWarn, "ignoring a Certificate that cannot be decoded: " + *error);
    return std::nullopt;
  }
  return std::get<Certificate>(std::move(decoded));
}

void CertificateKind::list_page(std::shared_ptr<nlohmann::json> items) {
  for (const auto& item : *items) {
    if (auto certificate = decode(item)) listed_.push_back(std::move(*certificate));
  }
}

std::string CertificateKind::list_completed() {
  book_.replace_all(scope_index_, namespace_name_, std::move(listed_));
  listed_.clear();
  return "";
}

void CertificateKind::apply_event(const std::string& type, nlohmann::json& object, const std::string&) {
  auto certificate = decode(object);
  if (!certificate) return;
  if (type == "DELETED") {
    book_.remove(certificate->id());
  } else {
    book_.apply(std::move(*certificate));
  }
}

}  // namespace certsync::certmanager
