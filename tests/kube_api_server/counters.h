// Request counts per kind, for tests that assert how a client behaved
// ("it re-listed exactly once", "it kept one watch open").
//
// Thread-safe: plain atomics, read with snapshot().
#pragma once

#include <atomic>
#include <cstdint>

#include "json.h"
#include "request_kind.h"

namespace kube_test {

class Counters {
 public:
  void count(RequestKind kind);
  void count_unauthorized() { unauthorized_++; }
  void count_fault() { faults_++; }
  void watch_opened() { open_watches_++; }
  void watch_closed() { open_watches_--; }

  // {"list":N,"watch":N,"get":N,"create":N,"update":N,"patch":N,
  //  "delete":N,"discovery":N,"other":N,"unauthorized":N,"faults":N,
  //  "open_watches":N}
  Json snapshot() const;
  void reset();  // zeroes the request counts; open_watches stays true

 private:
  std::atomic<int64_t> by_kind_[kRequestKindCount] = {};
  std::atomic<int64_t> unauthorized_{0};
  std::atomic<int64_t> faults_{0};
  std::atomic<int64_t> open_watches_{0};
};

// RAII: counts a watch stream as open for as long as it lives.
class OpenWatchGuard {
 public:
  explicit OpenWatchGuard(Counters &c) : c_(c) { c_.watch_opened(); }
  ~OpenWatchGuard() { c_.watch_closed(); }
  OpenWatchGuard(const OpenWatchGuard &) = delete;
  OpenWatchGuard &operator=(const OpenWatchGuard &) = delete;

 private:
  Counters &c_;
};

}  // namespace kube_test
