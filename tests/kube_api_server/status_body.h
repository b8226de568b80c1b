// Kubernetes `Status` objects, shaped exactly like the ones a real
// kube-apiserver v1.26 returns (see fixtures/kube-api-samples 05, 06, 11, 12,
// 16, 17, 19, 20). Clients decide what to do from `code` and `reason`, and
// tests compare against the samples, so field order and wording matter.
#pragma once

#include <string>
#include <vector>

#include "json.h"

namespace kube_test {

// A failed request: the HTTP status to send and the Status body.
struct ApiError {
  int code = 500;
  Json body;
};

// What a request asked for, in RBAC's terms, for a 403 message.
struct RequestTarget {
  std::string verb;  // list, watch, get, create, update, patch, delete
  bool resource = true;  // false: a non-resource path such as /api
  std::string ns;    // empty: cluster scope
  std::string name;  // empty: the collection
  std::string path;  // for a non-resource request
  std::string resource_name = "secrets";  // the resource, e.g. certificates
  std::string group;                      // its API group; empty: core
};

struct StatusCause {
  std::string reason;   // e.g. FieldValueRequired
  std::string message;  // e.g. Required value
  std::string field;    // e.g. data[tls.key]; empty: omitted
};

// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...}
Json failure_status(int code, const std::string &reason,
                    const std::string &message, const Json &details = Json());

ApiError unauthorized();                                       // 401
// `resource` and `group` name what was not found (default: Secrets, in
// the core group); a group gives `certificates.cert-manager.io "x" ...`.
ApiError not_found(const std::string &name,
                   const std::string &resource = "secrets",
                   const std::string &group = "");  // 404 secrets "x" not found
ApiError route_not_found();                                    // 404 unknown path
ApiError already_exists(const std::string &name,
                        const std::string &resource = "secrets",
                        const std::string &group = "");  // 409
ApiError conflict(const std::string &name,
                  const std::string &resource = "secrets",
                  const std::string &group = "");  // 409 stale resourceVersion
ApiError bad_request(const std::string &message);              // 400
ApiError unsupported_media_type(const std::string &type);      // 415
ApiError method_not_allowed();                                 // 405
ApiError invalid(const std::string &name,
                 const std::vector<StatusCause> &causes,
                 const std::string &kind = "Secret",
                 const std::string &group = "");               // 422
ApiError gone_expired(const std::string &message);             // 410 Expired
ApiError list_continue_expired(const std::string &fresh_continue);  // 410, sample 20
ApiError rv_too_large(unsigned long long requested,
                      unsigned long long current);             // 504, sample 19
ApiError forbidden(const RequestTarget &target);               // 403, sample 13
// Injected by the faults component: 429 / 5xx / anything else.
ApiError injected(int code, int retry_after_seconds,
                  const RequestTarget &target);

// DELETE's answer for a Secret: Success Status naming the object (sample 16).
Json delete_success(const std::string &name, const std::string &uid,
                    const std::string &resource = "secrets",
                    const std::string &group = "");

// The ERROR watch event's Status for a too-old resourceVersion (sample 17).
Json too_old_resource_version(unsigned long long requested,
                              unsigned long long oldest);

}  // namespace kube_test
