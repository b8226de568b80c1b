#include <chrono>
#include <thread>

#include "http_helpers.h"
#include "request_kind.h"
#include "routes.h"

namespace kube_test {

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
    if (fault) {
      ctx.counters.count_fault();
      // A stall ends early on shutdown, so stopping never waits for it.
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(fault->stall_ms);
      while (std::chrono::steady_clock::now() < until &&
             !ctx.store.stopping()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (fault->status != 0) {
        send_error(req, res, injected(fault->status, fault->retry_after));
        if (fault->retry_after > 0) {
          res.set_header("Retry-After", std::to_string(fault->retry_after));
        }
        return;
      }
    }
    handler(req, res, fault ? &*fault : nullptr);
  };
}

}  // namespace kube_test
