// The reflector's transitions, as pure functions a test can drive one by one:
// given how a LIST or WATCH attempt ended, what does the watcher do next?
// (client-go's tools/cache/reflector.go and the API concepts page.)
//
//   LIST ok              → WATCH from the list's resourceVersion
//   WATCH ended normally → WATCH again from the last resourceVersion (no LIST)
//   410 Gone / Expired, as HTTP status or ERROR event → LIST again
//   504 ResourceVersionTooLarge → LIST again (from resourceVersion "")
//   401 → re-read the token and retry at once, once; then back off
//   429, 5xx, transport errors, a watch closed at once → back off (Retry-After
//     wins when longer); a WATCH is retried from its resourceVersion: a 429
//     never causes a LIST
//   404 or 403 on an optional resource (a CRD that is not installed, or not
//     granted) → switched off: LIST again after a long pause, quietly
#pragma once

#include <chrono>
#include <optional>

namespace certsync::kube {

enum class Phase { kList, kWatch };

struct AttemptOutcome {
  bool interrupted = false;      // stop() ended it
  bool succeeded = false;        // LIST: complete list applied; WATCH: stream ended by the server
  long http_status = 0;          // 0: no HTTP answer (transport error)
  bool expired = false;          // 410 Gone / reason Expired (status or ERROR event)
  bool resource_version_too_large = false;
  bool closed_at_once = false;   // WATCH: closed within a second, nothing in it
  bool auth_retried = false;     // a 401 was already retried at once
  bool unavailable = false;      // an optional resource answered 404 or 403
};

enum class Next {
  kStop,
  kWatch,            // (re)watch from the current resourceVersion, now
  kList,             // list now
  kRetryNow,         // same phase again, now (401 after re-reading the token)
  kBackOffThenList,
  kBackOffThenWatch,
  kPauseThenList,    // an optional resource is not there: look again much later
};

Next decide(Phase phase, const AttemptOutcome& outcome);

}  // namespace certsync::kube
