#include "request_kind.h"

#include <httplib.h>

#include <regex>

namespace kube_test {
namespace {

const char *const kNames[kRequestKindCount] = {
    "list",   "watch",  "get",       "create", "update",
    "patch",  "delete", "discovery", "other"};

bool starts_with(const std::string &s, const char *prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

const char *request_kind_name(RequestKind kind) {
  return kNames[static_cast<size_t>(kind)];
}

std::optional<RequestKind> request_kind_from_name(const std::string &name) {
  for (size_t i = 0; i < kRequestKindCount; ++i) {
    if (name == kNames[i]) return static_cast<RequestKind>(i);
  }
  return std::nullopt;
}

bool is_watch_request(const httplib::Request &req) {
  if (starts_with(req.path, "/api/v1/watch/")) return true;
  if (!req.has_param("watch")) return false;
  const std::string v = req.get_param_value("watch");
  return v == "true" || v == "1";
}

RequestKind classify(const httplib::Request &req) {
  static const std::regex collection(
      "^/api/v1/(watch/)?(namespaces/[^/]+/)?secrets/?$");
  static const std::regex item("^/api/v1/namespaces/[^/]+/secrets/[^/]+$");
  const std::string &p = req.path;
  if (std::regex_match(p, collection)) {
    if (req.method == "GET") {
      return is_watch_request(req) ? RequestKind::kWatch : RequestKind::kList;
    }
    if (req.method == "POST") return RequestKind::kCreate;
    return RequestKind::kOther;
  }
  if (std::regex_match(p, item)) {
    if (req.method == "GET") return RequestKind::kGet;
    if (req.method == "PUT") return RequestKind::kUpdate;
    if (req.method == "PATCH") return RequestKind::kPatch;
    if (req.method == "DELETE") return RequestKind::kDelete;
    return RequestKind::kOther;
  }
  if (p == "/api" || p == "/api/" || p == "/api/v1" || p == "/apis" ||
      p == "/apis/" || p == "/version" || starts_with(p, "/openapi/")) {
    return RequestKind::kDiscovery;
  }
  return RequestKind::kOther;
}

}  // namespace kube_test
