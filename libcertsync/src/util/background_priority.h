// lower_thread_priority: makes the calling thread (and the threads it
// starts afterwards, which inherit it) yield the CPU to nginx's workers.
//
// A relist parses and validates thousands of Secrets on threads inside an
// nginx worker process. They compete for the same cores as the event
// loops serving traffic: at full speed on a busy node they add latency to
// every request while the relist runs, although nothing waits for it (the
// last good set keeps serving). So a relist runs on a thread of its own at
// a lower priority (nice +10: under a saturated CPU it still gets about a
// tenth of a core's share, on an idle one all of it), and its validation
// helpers inherit it, while a single watch event, a renewal that must
// reach the handshakes at once, stays on the watcher's own thread at the
// worker's priority. The first list, which the node waits for before it is
// ready, keeps the worker's priority too.
#pragma once

namespace certsync::util {

inline constexpr int kBackgroundNiceIncrement = 10;

// Returns false when the kernel refused (the priority stays as it was).
bool lower_thread_priority(int increment = kBackgroundNiceIncrement);

}  // namespace certsync::util
