#include "status_body.h"

namespace kube_test {

Json failure_status(int code, const std::string &reason,
                    const std::string &message, const Json &details) {
  Json s;
  s["kind"] = "Status";
  s["apiVersion"] = "v1";
  s["metadata"] = Json::object();
  s["status"] = "Failure";
  if (!message.empty()) s["message"] = message;
  s["reason"] = reason;
  if (!details.is_null()) s["details"] = details;
  s["code"] = code;
  return s;
}

namespace {

// {"name", "group" (only for a named API group), "kind": the resource}, as
// the real server writes details.
Json name_details(const std::string &name, const std::string &resource,
                  const std::string &group) {
  Json d;
  d["name"] = name;
  if (!group.empty()) d["group"] = group;
  d["kind"] = resource;
  return d;
}

// `secrets`, or `certificates.cert-manager.io` for a resource of a group.
std::string qualified(const std::string &resource, const std::string &group) {
  return group.empty() ? resource : resource + "." + group;
}

}  // namespace

ApiError unauthorized() {
  return {401, failure_status(401, "Unauthorized", "Unauthorized")};
}

ApiError not_found(const std::string &name, const std::string &resource,
                   const std::string &group) {
  return {404, failure_status(404, "NotFound",
                              qualified(resource, group) + " \"" + name +
                                  "\" not found",
                              name_details(name, resource, group))};
}

ApiError route_not_found() {
  return {404, failure_status(404, "NotFound",
                              "the server could not find the requested resource",
                              Json::object())};
}

ApiError already_exists(const std::string &name, const std::string &resource,
                        const std::string &group) {
  return {409, failure_status(409, "AlreadyExists",
                              qualified(resource, group) + " \"" + name +
                                  "\" already exists",
                              name_details(name, resource, group))};
}

ApiError conflict(const std::string &name, const std::string &resource,
                  const std::string &group) {
  // Wording of the real optimistic-concurrency failure.
  return {409, failure_status(
                   409, "Conflict",
                   "Operation cannot be fulfilled on " +
                       qualified(resource, group) + " \"" + name +
                       "\": the object has been modified; please apply your "
                       "changes to the latest version and try again",
                   name_details(name, resource, group))};
}

ApiError bad_request(const std::string &message) {
  return {400, failure_status(400, "BadRequest", message)};
}

ApiError unsupported_media_type(const std::string &type) {
  return {415, failure_status(415, "UnsupportedMediaType",
                              "the body of the request was in an unknown "
                              "format - accepted media types include: "
                              "application/json-patch+json, "
                              "application/merge-patch+json, "
                              "application/apply-patch+yaml, "
                              "application/strategic-merge-patch+json (got " +
                                  type + ")")};
}

ApiError method_not_allowed() {
  return {405, failure_status(405, "MethodNotAllowed",
                              "the server does not allow this method on the "
                              "requested resource",
                              Json::object())};
}

ApiError invalid(const std::string &name,
                 const std::vector<StatusCause> &causes,
                 const std::string &kind, const std::string &group) {
  // The real message joins "field: message" pairs, bracketed when several.
  std::string joined;
  Json jc = Json::array();
  for (const auto &c : causes) {
    std::string one = c.field.empty() ? c.message : c.field + ": " + c.message;
    joined += (joined.empty() ? "" : ", ") + one;
    Json cause;
    cause["reason"] = c.reason;
    cause["message"] = c.message;
    if (!c.field.empty()) cause["field"] = c.field;
    jc.push_back(cause);
  }
  if (causes.size() > 1) joined = "[" + joined + "]";
  Json d;
  d["name"] = name;
  if (!group.empty()) d["group"] = group;
  d["kind"] = kind;
  d["causes"] = jc;
  return {422, failure_status(422, "Invalid",
                              qualified(kind, group) + " \"" + name +
                                  "\" is invalid: " + joined,
                              d)};
}

ApiError gone_expired(const std::string &message) {
  return {410, failure_status(410, "Expired", message)};
}

ApiError list_continue_expired(const std::string &fresh_continue) {
  Json s = failure_status(
      410, "Expired",
      "The provided continue parameter is too old to display a consistent "
      "list result. You can start a new list without the continue parameter, "
      "or use the continue token in this response to retrieve the remainder "
      "of the results. Continuing with the provided token results in an "
      "inconsistent list - objects that were created, modified, or deleted "
      "between the time the first chunk was returned and now may show up in "
      "the list.");
  // The real server puts the fresh token in the Status' own metadata.
  s["metadata"]["continue"] = fresh_continue;
  return {410, s};
}

ApiError rv_too_large(unsigned long long requested,
                      unsigned long long current) {
  Json cause;
  cause["reason"] = "ResourceVersionTooLarge";
  cause["message"] = "Too large resource version";
  Json d;
  d["causes"] = Json::array({cause});
  d["retryAfterSeconds"] = 1;
  return {504, failure_status(504, "Timeout",
                              "Timeout: Too large resource version: " +
                                  std::to_string(requested) +
                                  ", current: " + std::to_string(current),
                              d)};
}

ApiError forbidden(const RequestTarget &t) {
  // The authorizer's wording (apiserver's forbiddenMessage + NewForbidden).
  const std::string user = "User \"kube-api-test\" cannot " + t.verb;
  if (!t.resource) {
    return {403, failure_status(403, "Forbidden",
                                "forbidden: " + user + " path \"" + t.path +
                                    "\"",
                                Json::object())};
  }
  Json d;
  if (!t.name.empty()) d["name"] = t.name;
  if (!t.group.empty()) d["group"] = t.group;
  d["kind"] = t.resource_name;
  const std::string full = qualified(t.resource_name, t.group);
  const std::string what =
      t.name.empty() ? full : full + " \"" + t.name + "\"";
  const std::string where = t.ns.empty()
                                ? " at the cluster scope"
                                : " in the namespace \"" + t.ns + "\"";
  return {403, failure_status(403, "Forbidden",
                              what + " is forbidden: " + user +
                                  " resource \"" + t.resource_name +
                                  "\" in API group \"" + t.group + "\"" +
                                  where,
                              d)};
}

ApiError injected(int code, int retry_after_seconds,
                  const RequestTarget &target) {
  std::string reason = "InternalError";
  std::string message = "an error on the server (\"injected fault\") has "
                        "prevented the request from succeeding";
  switch (code) {
    case 401:
      return unauthorized();
    case 403:
      return forbidden(target);
    case 429:
      reason = "TooManyRequests";
      message = "Too many requests, please try again later.";
      break;
    case 503:
      reason = "ServiceUnavailable";
      message = "the server is currently unable to handle the request";
      break;
    case 504:
      // The only 504 a list or watch gets from kube-apiserver: its cache is
      // behind the requested resourceVersion (sample 19).
      return rv_too_large(0, 0);
    case 410:
      reason = "Expired";
      message = "too old resource version";
      break;
    default:
      break;
  }
  Json d;
  if (retry_after_seconds > 0) {
    d = Json::object();
    d["retryAfterSeconds"] = retry_after_seconds;
  }
  return {code, failure_status(code, reason, message, d)};
}

Json delete_success(const std::string &name, const std::string &uid,
                    const std::string &resource, const std::string &group) {
  Json s;
  s["kind"] = "Status";
  s["apiVersion"] = "v1";
  s["metadata"] = Json::object();
  s["status"] = "Success";
  Json d = name_details(name, resource, group);
  d["uid"] = uid;
  s["details"] = d;
  return s;
}

Json too_old_resource_version(unsigned long long requested,
                              unsigned long long oldest) {
  return failure_status(410, "Expired",
                        "too old resource version: " +
                            std::to_string(requested) + " (" +
                            std::to_string(oldest) + ")");
}

}  // namespace kube_test
