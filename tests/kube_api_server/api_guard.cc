#include <chrono>
#include <thread>
#include <vector>

#include "fault_delivery.h"
#include "http_helpers.h"
#include "request_kind.h"
#include "routes.h"

namespace kube_test {
namespace {

// The request in RBAC's terms, for an injected 403 that reads like the
// authorizer's (sample 13): verb, namespace and name from the path.
RequestTarget target_of(const httplib::Request &req, RequestKind kind) {
  RequestTarget t;
  switch (kind) {
    case RequestKind::kList:
    case RequestKind::kWatch:
    case RequestKind::kGet:
    case RequestKind::kCreate:
    case RequestKind::kUpdate:
    case RequestKind::kPatch:
    case RequestKind::kDelete:
      t.verb = request_kind_name(kind);
      break;
    case RequestKind::kDiscovery:
    case RequestKind::kOther:
      t.verb = "get";
      t.resource = false;
      t.path = req.path;
      return t;
  }
  std::vector<std::string> seg;
  size_t start = 1;
  while (start <= req.path.size()) {
    size_t slash = req.path.find('/', start);
    if (slash == std::string::npos) slash = req.path.size();
    seg.push_back(req.path.substr(start, slash - start));
    start = slash + 1;
  }
  for (size_t i = 0; i + 1 < seg.size(); ++i) {
    if (seg[i] == "namespaces") t.ns = seg[i + 1];
    if (seg[i] == "secrets") t.name = seg[i + 1];
  }
  return t;
}

}  // namespace

httplib::Server::Handler guarded(ServerContext &ctx, ApiHandler handler) {
  return [&ctx, handler](const httplib::Request &req, httplib::Response &res) {
    const RequestKind kind = classify(req);
    ctx.counters.count(kind);
    if (!ctx.auth.accepts(req)) {
      ctx.counters.count_unauthorized();
      send_error(req, res, unauthorized());
      return;
    }
    std::optional<FaultHit> fault = ctx.faults.take(kind);
    if (!fault) return handler(req, res, nullptr);

    ctx.counters.count_fault();
    // A stall ends early on shutdown, so stopping never waits for it.
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(fault->stall_ms);
    while (std::chrono::steady_clock::now() < until &&
           !ctx.store.stopping()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (fault->status != 0) {
      send_error(req, res,
                 injected(fault->status, fault->retry_after,
                          target_of(req, kind)));
      if (fault->retry_after > 0) {
        res.set_header("Retry-After", std::to_string(fault->retry_after));
      }
    } else {
      handler(req, res, &*fault);
    }
    // A watch applies stalls and drips to its own stream; any other answer
    // is complete here and may now be held back or dripped.
    deliver_with_fault(ctx, *fault, req, res);
  };
}

}  // namespace kube_test
