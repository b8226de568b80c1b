#include "kube/scope.h"

#include <cctype>

namespace certsync::kube {

std::string query_escape(const std::string& value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string Scope::collection_path() const {
  if (namespace_name.empty()) return "/api/v1/secrets";
  return "/api/v1/namespaces/" + query_escape(namespace_name) + "/secrets";
}

std::string Scope::selector_query() const {
  std::string query;
  if (!label_selector.empty()) query = "labelSelector=" + query_escape(label_selector);
  // Field selector requirements are ANDed: one parameter, comma-separated.
  std::string fields;
  if (!secret_type.empty()) fields = "type=" + secret_type;
  if (!secret_name.empty()) fields += (fields.empty() ? "" : ",") + std::string("metadata.name=") + secret_name;
  if (!fields.empty()) query += (query.empty() ? "" : "&") + std::string("fieldSelector=") + query_escape(fields);
  return query;
}

bool Scope::contains(const std::string& id, const std::string& type) const {
  if (!secret_type.empty() && type != secret_type) return false;
  if (namespace_name.empty()) return true;
  if (id.compare(0, namespace_name.size(), namespace_name) != 0 || id.size() <= namespace_name.size() ||
      id[namespace_name.size()] != '/')
    return false;
  return secret_name.empty() || id.compare(namespace_name.size() + 1, std::string::npos, secret_name) == 0;
}

std::string Scope::describe() const {
  std::string text = namespace_name.empty() ? "all namespaces"
                     : secret_name.empty()  ? "namespace " + namespace_name
                                            : "Secret " + namespace_name + "/" + secret_name;
  text += secret_type.empty() ? ", any type" : ", type " + secret_type;
  if (!label_selector.empty()) text += " (labels " + label_selector + ")";
  return text;
}

}  // namespace certsync::kube
