// The OpenAPI v3 documents kubectl reads before `apply` and `replace`:
//   GET /openapi/v3          index: {"paths":{"api/v1":{"serverRelativeURL":
//                            "/openapi/v3/api/v1?hash=..."}}}
//   GET /openapi/v3/api/v1   the core/v1 group-version document
//
// Only Secrets are described, with the objects a Secret references
// (ObjectMeta, ManagedFieldsEntry, OwnerReference, Time, FieldsV1) plus
// SecretList, Status and DeleteOptions. kubectl uses it to (1) see that PATCH
// of a v1 Secret accepts the fieldValidation query parameter, so validation is
// left to the server, and (2) compute apply's strategic merge patch from the
// schema; without it kubectl falls back to other paths.
#pragma once

#include <string>

namespace kube_test {

// Serialised once; the hash is SHA-512 of the document in upper-case hex,
// like the real server's, so kubectl's HTTP cache keys change with content.
const std::string &openapi_v3_api_v1();
const std::string &openapi_v3_api_v1_hash();
std::string openapi_v3_index();
// The hash of an OpenAPI document as the index names it: SHA-512, upper-case hex.
std::string openapi_document_hash(const std::string &document);

}  // namespace kube_test
