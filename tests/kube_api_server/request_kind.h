// What a request is, in the API server's own verbs: the key for counters and
// for fault injection.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace httplib {
struct Request;
}

namespace kube_test {

enum class RequestKind : size_t {
  kList,
  kWatch,
  kGet,
  kCreate,
  kUpdate,
  kPatch,
  kDelete,
  kDiscovery,  // /api, /apis, /version, /openapi/...
  kOther,      // unknown paths, /healthz, ...
};
constexpr size_t kRequestKindCount = 9;

const char *request_kind_name(RequestKind kind);
std::optional<RequestKind> request_kind_from_name(const std::string &name);

// Classifies by method, path and the `watch` query parameter. /testing/...
// is kOther and never counted by the caller.
RequestKind classify(const httplib::Request &req);

// `watch=true` or `watch=1` (the server accepts both, as the real one does),
// or the legacy /api/v1/watch/... path.
bool is_watch_request(const httplib::Request &req);

}  // namespace kube_test
