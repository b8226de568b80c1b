// Backoff: how long to wait after a failure, as client-go's reflector does:
// 0.8 s doubling to a 30 s cap, each delay stretched by up to 100% random
// jitter (so a fleet of nodes does not retry in lockstep), and back to 0.8 s
// once two minutes have passed without a failure. Not thread-safe; the
// watcher thread owns it. The clock is passed in so tests can drive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace certsync::kube {

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;
  using Duration = std::chrono::milliseconds;

  struct Settings {
    Duration initial{800};
    Duration cap{30000};
    Duration reset_after{std::chrono::minutes(2)};
    double jitter = 1.0;  // a delay d becomes d + random(0, jitter * d)
  };

  explicit Backoff(Settings settings, uint64_t seed = std::random_device{}())
      : settings_(settings), current_(settings.initial), random_(seed) {}
  Backoff() : Backoff(Settings{}) {}

  // The delay before the next attempt after a failure at `now`.
  Duration next(Clock::time_point now);

  // The delay before the next attempt when the server asked for `retry_after`:
  // its request wins when longer than the backoff (it knows its load).
  Duration next(Clock::time_point now, std::optional<Duration> retry_after);

 private:
  const Settings settings_;
  Duration current_;
  std::optional<Clock::time_point> last_failure_;
  std::mt19937_64 random_;
};

}  // namespace certsync::kube
