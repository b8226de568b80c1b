#include "kube/secret_validation.h"

#include <utility>

namespace certsync::kube {

std::vector<std::string> split_server_names(std::string_view annotation) {
  std::vector<std::string> names;
  for (size_t start = 0; start <= annotation.size();) {
    size_t end = annotation.find(',', start);
    if (end == std::string_view::npos) end = annotation.size();
    std::string_view name = annotation.substr(start, end - start);
    const size_t first = name.find_first_not_of(" \t");
    if (first != std::string_view::npos) {
      name = name.substr(first, name.find_last_not_of(" \t") + 1 - first);
      names.emplace_back(name);
    }
    start = end + 1;
  }
  return names;
}

tls::ValidationOptions validation_options_for(const Secret& secret, const WatchOptions& options) {
  // secret.temporary_annotation is not passed on: an annotation can stay on a
  // Secret through later real renewals, which would then be held back as
  // temporary. The issuer (cert-manager.local) identifies the placeholder.
  return validation_options_for(secret.ca_crt, secret.server_names_annotation, options);
}

tls::ValidationOptions validation_options_for(std::string_view ca_crt, std::string_view server_names_annotation,
                                              const WatchOptions& options) {
  tls::ValidationOptions validation = options.validation;
  validation.ca_pem = ca_crt;
  if (options.honour_server_names_annotation && !server_names_annotation.empty()) {
    for (std::string& name : split_server_names(server_names_annotation))
      validation.sni_override.push_back(std::move(name));
  }
  return validation;
}

}  // namespace certsync::kube
