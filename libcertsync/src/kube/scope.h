// Scope: one set of Secrets one watch stream covers: a namespace, every
// namespace, or a single Secret (RBAC `resourceNames` only allows list and
// watch with fieldSelector=metadata.name=<name>, so each named Secret gets
// its own stream), of one Secret type. An optional label selector narrows
// any of them.
//
// The type is a server-side filter (fieldSelector=type=...): Secrets of other
// types (Helm releases, tokens, credentials) never cross the wire. Field
// selectors cannot OR, so several types mean one stream per type.
#pragma once

#include <string>

namespace certsync::kube {

// What Kubernetes stores when a Secret is created without a type.
inline constexpr const char* kDefaultSecretType = "Opaque";

struct Scope {
  std::string namespace_name;  // empty: all namespaces
  std::string secret_name;     // empty: every Secret of the namespace(s)
  std::string label_selector;  // empty: no label selector
  std::string secret_type;     // empty: every type, no type selector

  // The collection URL path: /api/v1/secrets or /api/v1/namespaces/NS/secrets.
  std::string collection_path() const;
  // "labelSelector=…&fieldSelector=type=…,metadata.name=…" (escaped), or empty.
  std::string selector_query() const;
  // Whether a Secret "namespace/name" of type `type` belongs to this scope
  // (labels aside): what a LIST of this scope may drop when it is absent.
  bool contains(const std::string& id, const std::string& type) const;
  // For humans, and the `scope` label of the metrics, so unique per scope:
  // "namespace default, type kubernetes.io/tls", "all namespaces, any type",
  // "Secret default/app-tls, type Opaque".
  std::string describe() const;
};

// Percent-encodes a URL query value.
std::string query_escape(const std::string& value);

}  // namespace certsync::kube
