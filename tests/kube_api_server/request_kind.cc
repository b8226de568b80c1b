#include "request_kind.h"

#include <httplib.h>

#include <vector>

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
  // Segments of the path: /api/v1[/watch][/namespaces/NS]/secrets[/NAME]
  std::vector<std::string> seg;
  std::string cur;
  for (char c : req.path.substr(req.path.empty() ? 0 : 1)) {
    if (c == '/') {
      seg.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) seg.push_back(cur);  // a trailing "/" adds nothing
  size_t i = 0;
  bool secrets = seg.size() >= 3 && seg[0] == "api" && seg[1] == "v1";
  if (secrets) {
    i = 2;
    if (i < seg.size() && seg[i] == "watch") ++i;
    if (i + 1 < seg.size() && seg[i] == "namespaces" && !seg[i + 1].empty()) {
      i += 2;
    }
    secrets = i < seg.size() && seg[i] == "secrets";
  }
  if (secrets && seg.size() == i + 1) {
    if (req.method == "GET") {
      return is_watch_request(req) ? RequestKind::kWatch : RequestKind::kList;
    }
    if (req.method == "POST") return RequestKind::kCreate;
    return RequestKind::kOther;
  }
  if (secrets && seg.size() == i + 2 && seg[2] == "namespaces" &&
      !seg[i + 1].empty()) {
    if (req.method == "GET") return RequestKind::kGet;
    if (req.method == "PUT") return RequestKind::kUpdate;
    if (req.method == "PATCH") return RequestKind::kPatch;
    if (req.method == "DELETE") return RequestKind::kDelete;
    return RequestKind::kOther;
  }
  const std::string &p = req.path;
  if (p == "/api" || p == "/api/" || p == "/api/v1" || p == "/apis" ||
      p == "/apis/" || p == "/version" || starts_with(p, "/openapi/")) {
    return RequestKind::kDiscovery;
  }
  return RequestKind::kOther;
}

}  // namespace kube_test
