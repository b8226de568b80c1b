// Backoff follows client-go's reflector: 0.8 s doubling to 30 s, jitter, reset after 2 minutes.
#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include "kube/backoff.h"

using certsync::kube::Backoff;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
Backoff::Settings no_jitter() {
  Backoff::Settings s;
  s.jitter = 0.0;
  return s;
}
}  // namespace

TEST_CASE("delays double from 0.8 s up to the 30 s cap", "[backoff]") {
  Backoff backoff(no_jitter());
  auto t = Backoff::Clock::now();
  std::vector<int64_t> delays;
  for (int i = 0; i < 8; ++i) {
    delays.push_back(backoff.next(t).count());
    t += seconds(1);
  }
  REQUIRE(delays == std::vector<int64_t>{800, 1600, 3200, 6400, 12800, 25600, 30000, 30000});
}

TEST_CASE("two minutes without a failure bring the delay back to 0.8 s", "[backoff]") {
  Backoff backoff(no_jitter());
  auto t = Backoff::Clock::now();
  backoff.next(t);
  backoff.next(t += seconds(1));
  REQUIRE(backoff.next(t += seconds(1)).count() == 3200);
  REQUIRE(backoff.next(t += seconds(121)).count() == 800);
}

TEST_CASE("jitter stretches a delay by at most its own length, and varies", "[backoff]") {
  Backoff backoff(Backoff::Settings{}, 42);
  auto t = Backoff::Clock::now();
  std::set<int64_t> seen;
  for (int i = 0; i < 20; ++i) {
    const auto delay = backoff.next(t += seconds(200)).count();  // always reset: base 800
    REQUIRE(delay >= 800);
    REQUIRE(delay <= 1600);
    seen.insert(delay);
  }
  REQUIRE(seen.size() > 10);
}

TEST_CASE("a longer Retry-After from the server wins over the backoff", "[backoff]") {
  Backoff backoff(no_jitter());
  auto t = Backoff::Clock::now();
  REQUIRE(backoff.next(t, milliseconds(5000)).count() == 5000);
  REQUIRE(backoff.next(t += seconds(1), milliseconds(100)).count() == 1600);
}
