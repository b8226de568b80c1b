// Scope: one set of Secrets one watch stream covers: a namespace, every
// namespace, or a single Secret (RBAC `resourceNames` only allows list and
// watch with fieldSelector=metadata.name=<name>, so each named Secret gets
// its own stream). An optional label selector narrows any of them.
#pragma once

#include <string>

namespace certsync::kube {

struct Scope {
  std::string namespace_name;  // empty: all namespaces
  std::string secret_name;     // empty: every Secret of the namespace(s)
  std::string label_selector;  // empty: no label selector

  // The collection URL path: /api/v1/secrets or /api/v1/namespaces/NS/secrets.
  std::string collection_path() const;
  // "labelSelector=…&fieldSelector=…" (escaped), or empty.
  std::string selector_query() const;
  // Whether a Secret "namespace/name" belongs to this scope (labels aside).
  bool contains(const std::string& id) const;
  // For humans: "namespace default", "all namespaces", "Secret default/app-tls".
  std::string describe() const;
};

// Percent-encodes a URL query value.
std::string query_escape(const std::string& value);

}  // namespace certsync::kube
