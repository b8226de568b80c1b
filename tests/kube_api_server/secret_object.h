// What the API server does to a Secret between the request body and storage:
// decoding checks, `stringData` folded into `data`, defaults, validation, and
// the canonical field order the real server serialises in.
//
// Pure functions, no locking: callers are the route handlers (decode) and the
// store's update callbacks (validate against the old object).
#pragma once

#include <optional>
#include <string>

#include "json.h"
#include "status_body.h"

namespace kube_test {

// Turns a request body into a canonical Secret, as the decoder + defaulting
// stage of the real server would:
//  - the body must be a JSON object with kind Secret / apiVersion v1 (both
//    may be omitted, as with patches);
//  - `metadata.namespace`, when set, must equal `url_namespace` (400);
//    when absent it is set from the URL;
//  - `data` values must be valid standard base64 (400);
//  - `stringData` entries overwrite `data` entries (then stringData is gone);
//  - `type` defaults to Opaque;
//  - with strict=true (fieldValidation=Strict) unknown top-level or metadata
//    fields are refused with 400.
std::optional<ApiError> decode_secret(const Json &body,
                                      const std::string &url_namespace,
                                      bool strict, Json &out);

// Validation of a decoded Secret (422 Invalid with causes like sample 06).
// `old` is the stored object on update (type and immutable data checks),
// nullptr on create.
std::optional<ApiError> validate_secret(const Json &secret, const Json *old);

// Same fields, in the order a real server emits them: kind, apiVersion,
// metadata{name, generateName, namespace, uid, resourceVersion,
// creationTimestamp, ..., labels, annotations, ...}, immutable, data, type.
// Map keys (data, labels, annotations) sorted, as Go's encoder does.
Json canonical_secret(const Json &secret);

// True when two Secrets differ only in server-managed bookkeeping
// (resourceVersion, managedFields): an update that changes nothing is a no-op
// on a real server (no new resourceVersion, no watch event).
bool same_content(const Json &a, const Json &b);

std::string now_rfc3339();
std::string new_uid();
// The 5 random characters the server appends to metadata.generateName.
std::string random_name_suffix();

}  // namespace kube_test
