#include "fault_delivery.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "http_helpers.h"

namespace kube_test {
namespace {

// The longest a wait goes without checking for shutdown or a hang-up.
constexpr auto kCheckEvery = std::chrono::milliseconds(50);

// Sleeps `ms`, cut short when the server stops (returns true) or the
// client hangs up (returns false).
bool wait_between_drips(ServerContext &ctx, int ms, int socket) {
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (true) {
    if (ctx.store.stopping()) return true;
    if (peer_hung_up(socket)) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        until - now, kCheckEvery));
  }
}

}  // namespace

bool hold_after_headers(ServerContext &ctx, const FaultHit &fault, int socket) {
  if (!fault.stall_after_headers) return true;
  std::fprintf(stderr,
               "[kube-api-test-server] fault: stalling after the headers\n");
  while (ctx.faults.clears() == fault.clears_at_fire && !ctx.store.stopping()) {
    if (peer_hung_up(socket)) return false;
    std::this_thread::sleep_for(kCheckEvery);
  }
  return true;
}

bool write_through_fault(ServerContext &ctx, const FaultHit *fault,
                         httplib::DataSink &sink, const char *data, size_t size,
                         int socket) {
  if (fault == nullptr || fault->drip_bytes <= 0) {
    return sink.write(data, size);
  }
  const size_t step = static_cast<size_t>(fault->drip_bytes);
  for (size_t off = 0; off < size;) {
    if (off > 0 && !wait_between_drips(ctx, fault->drip_interval_ms, socket)) {
      return false;
    }
    const size_t n =
        ctx.store.stopping() ? size - off : std::min(step, size - off);
    if (!sink.write(data + off, n)) return false;
    off += n;
  }
  return true;
}

void deliver_with_fault(ServerContext &ctx, const FaultHit &fault,
                        const httplib::Request &req, httplib::Response &res) {
  if (!fault.stall_after_headers && fault.drip_bytes <= 0) return;
  if (res.content_provider_ || res.body.empty()) return;
  auto body = std::make_shared<std::string>(std::move(res.body));
  res.body.clear();
  std::string type = res.get_header_value("Content-Type");
  res.headers.erase("Content-Type");
  const int socket = request_socket(req);
  ServerContext *c = &ctx;
  res.set_content_provider(
      body->size(), type,
      [c, fault, body, socket](size_t offset, size_t, httplib::DataSink &sink) {
        if (offset == 0 && !hold_after_headers(*c, fault, socket)) return false;
        // The whole rest in one call: write_through_fault() paces it.
        return write_through_fault(*c, &fault, sink, body->data() + offset,
                                   body->size() - offset, socket);
      });
}

}  // namespace kube_test
