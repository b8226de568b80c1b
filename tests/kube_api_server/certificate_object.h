// What the API server does to a cert-manager Certificate (cert-manager.io/v1,
// a CRD with the status subresource) between the request body and storage:
// decoding checks, the schema's required fields, and the field order the
// real server serialises a custom resource in.
//
// The status subresource is what makes a Certificate more than JSON in a
// box: writes to the object keep the stored status, writes to /status keep
// everything but the status, and metadata.generation grows with each change
// of the spec (cert-manager's own controllers rely on all three).
//
// Pure functions, no locking, like secret_object.h.
#pragma once

#include <optional>
#include <string>

#include "json.h"
#include "status_body.h"
#include "store.h"

namespace kube_test {

// The kind of the store that holds Certificates.
ObjectKind certificate_kind();

// --cert-manager's value as a CertManagerMode (server_context.h).
int cert_manager_mode(const std::string &name);

// A request body as a Certificate: a JSON object whose kind and apiVersion,
// when present, are Certificate and cert-manager.io/v1; metadata.namespace,
// when set, equal to the URL's (400), else set from it.
std::optional<ApiError> decode_certificate(const Json &body,
                                           const std::string &url_namespace,
                                           Json &out);

// The CRD schema's required fields: metadata.name, spec.secretName,
// spec.issuerRef.name (422 Invalid naming each missing field).
std::optional<ApiError> validate_certificate(const Json &certificate);

// apiVersion, kind, metadata, spec, status (when there is one), in that
// order, as the real server writes a custom resource.
Json canonical_certificate(const Json &certificate);

}  // namespace kube_test
