#include "kube/reflector_policy.h"

namespace certsync::kube {

Next decide(Phase phase, const AttemptOutcome& outcome) {
  if (outcome.interrupted) return Next::kStop;
  if (outcome.unavailable) return Next::kPauseThenList;
  const Next back_off = phase == Phase::kList ? Next::kBackOffThenList : Next::kBackOffThenWatch;
  if (outcome.succeeded) {
    return outcome.closed_at_once ? back_off : Next::kWatch;
  }
  if (outcome.http_status == 401) return outcome.auth_retried ? back_off : Next::kRetryNow;
  if (outcome.expired || outcome.http_status == 410) {
    // A LIST whose continue token expired starts over; so does a WATCH whose
    // resourceVersion is older than the server's history.
    return Next::kList;
  }
  if (outcome.resource_version_too_large) return phase == Phase::kWatch ? Next::kList : back_off;
  return back_off;
}

}  // namespace certsync::kube
