#include "kube/backoff.h"

#include <algorithm>

namespace certsync::kube {

Backoff::Duration Backoff::next(Clock::time_point now) {
  if (last_failure_ && now - *last_failure_ > settings_.reset_after) current_ = settings_.initial;
  last_failure_ = now;
  const Duration base = current_;
  current_ = std::min<Duration>(current_ * 2, settings_.cap);
  std::uniform_real_distribution<double> spread(0.0, settings_.jitter);
  return base + Duration(static_cast<int64_t>(static_cast<double>(base.count()) * spread(random_)));
}

Backoff::Duration Backoff::next(Clock::time_point now, std::optional<Duration> retry_after) {
  const Duration delay = next(now);
  if (!retry_after) return delay;
  return std::max(*retry_after, delay);
}

}  // namespace certsync::kube
