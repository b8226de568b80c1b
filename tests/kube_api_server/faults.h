// Fault injection, consulted once per API request before it is served.
//
// Tests queue faults with POST /testing/faults; each matches some request
// kinds (`verbs`, or one `verb`) and fires for the next `count` matching
// requests (-1: until DELETE /testing/faults). A fault can:
//   - stall the request for `stall_ms` before anything else happens;
//   - answer with an error Status (`status`, e.g. 429/500/503, with an
//     optional Retry-After of `retry_after` seconds);
//   - send the body `drip_bytes` at a time, `drip_interval_ms` apart (a
//     watch: every event, in chunks that tear events; anything else: its
//     whole body, Content-Length set);
//   - send the 200 and the headers, then nothing at all (`stall_after_headers`)
//     until the client hangs up, the server stops, or the faults are cleared
//     (the response then carries on normally);
//   - for a watch, cut the stream in the middle of an event after
//     `drop_after_events` complete events (a torn chunk, then the TCP
//     connection is shut down, as when a proxy dies);
//   - for a watch, send one event whose JSON is `oversize_event_bytes` long,
//     or one event of type `unknown_event_type`, before any live event.
// The README lists the JSON of each. Faults queued first fire first.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
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
  int drip_bytes = 0;         // 0: send normally
  int drip_interval_ms = 0;   // pause between two drips
  bool stall_after_headers = false;
  int oversize_event_bytes = 0;    // watch only; 0: none
  std::string unknown_event_type;  // watch only; empty: none
  // Faults::clears() when the fault fired: a stall after the headers lasts
  // until it changes (DELETE /testing/faults).
  uint64_t clears_at_fire = 0;
};

class Faults {
 public:
  // Parses one fault spec (or an array of them); returns an error message for
  // a 400 when the spec is malformed. An array is queued whole or not at all.
  std::optional<std::string> add(const Json &spec);
  void clear();
  // How many times clear() ran: lets a stalled response notice a clear.
  uint64_t clears() const { return clears_.load(); }
  // Consumes one firing of the first fault matching `kind`, if any.
  std::optional<FaultHit> take(RequestKind kind);
  Json describe() const;

 private:
  struct Fault {
    FaultHit hit;
    std::set<RequestKind> kinds;
    int remaining = 1;  // -1: forever
  };
  static std::optional<std::string> parse(const Json &spec, Fault &out);

  mutable std::mutex mu_;
  std::deque<Fault> queue_;
  std::atomic<uint64_t> clears_{0};
};

}  // namespace kube_test
