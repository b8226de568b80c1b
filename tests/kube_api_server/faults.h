// Fault injection, consulted once per API request before it is served.
//
// Tests queue faults with POST /testing/faults; each matches some request
// kinds (default: list and watch) and fires for the next `count` matching
// requests (-1: until DELETE /testing/faults). A fault can:
//   - stall the request for `stall_ms` before anything else happens;
//   - answer with an error Status (`status`, e.g. 429/500/503, with an
//     optional Retry-After of `retry_after` seconds);
//   - for a watch, cut the stream in the middle of an event after
//     `drop_after_events` complete events (a torn chunk, then the TCP
//     connection is shut down, as when a proxy dies).
// Faults queued first fire first. Thread-safe.
#pragma once

#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "json.h"
#include "request_kind.h"

namespace kube_test {

struct FaultHit {
  int status = 0;             // 0: no error answer
  int retry_after = 0;        // seconds; 0: no Retry-After header
  int stall_ms = 0;           // delay before answering
  int drop_after_events = -1; // watch only; -1: no drop
};

class Faults {
 public:
  // Parses one fault spec (or an array of them); returns an error message for
  // a 400 when the spec is malformed.
  std::optional<std::string> add(const Json &spec);
  void clear();
  // Consumes one firing of the first fault matching `kind`, if any.
  std::optional<FaultHit> take(RequestKind kind);
  Json describe() const;

 private:
  struct Fault {
    FaultHit hit;
    std::set<RequestKind> kinds;
    int remaining = 1;  // -1: forever
  };
  std::optional<std::string> add_one(const Json &spec);

  mutable std::mutex mu_;
  std::deque<Fault> queue_;
};

}  // namespace kube_test
