// parallel_for: runs fn(0) .. fn(n - 1) on up to `threads` threads (the
// caller's included) and returns when every call has. For CPU-bound work
// the watcher does in bulk: validating the Secrets of a LIST page, where
// each one costs a signature or two and a first sync of 10,000 Secrets
// would otherwise wait on one core. fn must be safe to call concurrently.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "util/cpu_budget.h"

namespace certsync::util {

inline void parallel_for(size_t n, size_t threads, const std::function<void(size_t)>& fn) {
  if (threads > n) threads = n;
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto drain = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(drain);
  drain();
  for (auto& helper : helpers) helper.join();
}

// Threads worth using for bulk validation: the CPUs this process may use
// (affinity and cgroup quota, util/cpu_budget.h), at most 4 (nginx's
// workers share the node). Asked again for every page: a pod's CPU limit
// can change while it runs, and reading it costs two small files.
inline size_t validation_threads() {
  const size_t cpus = process_usable_cpus();
  return cpus > 4 ? 4 : cpus;
}

}  // namespace certsync::util
