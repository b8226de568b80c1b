// The reflector's transitions, one by one.
#include <catch2/catch.hpp>

#include "kube/reflector_policy.h"

using namespace certsync::kube;

namespace {
AttemptOutcome http(long status) {
  AttemptOutcome o;
  o.http_status = status;
  return o;
}
}  // namespace

TEST_CASE("a complete list is followed by a watch", "[policy]") {
  AttemptOutcome o;
  o.succeeded = true;
  o.http_status = 200;
  REQUIRE(decide(Phase::kList, o) == Next::kWatch);
}

TEST_CASE("a watch the server ends normally is resumed without a list", "[policy]") {
  AttemptOutcome o;
  o.succeeded = true;
  o.http_status = 200;
  REQUIRE(decide(Phase::kWatch, o) == Next::kWatch);
}

TEST_CASE("a watch closed at once with nothing in it backs off", "[policy]") {
  AttemptOutcome o;
  o.succeeded = true;
  o.http_status = 200;
  o.closed_at_once = true;
  REQUIRE(decide(Phase::kWatch, o) == Next::kBackOffThenWatch);
}

TEST_CASE("410 as an HTTP status or an ERROR event leads to a list", "[policy]") {
  REQUIRE(decide(Phase::kWatch, http(410)) == Next::kList);
  AttemptOutcome event = http(200);
  event.expired = true;
  REQUIRE(decide(Phase::kWatch, event) == Next::kList);
  REQUIRE(decide(Phase::kList, http(410)) == Next::kList);  // expired continue token
}

TEST_CASE("429 never causes a list: the watch backs off and resumes", "[policy]") {
  REQUIRE(decide(Phase::kWatch, http(429)) == Next::kBackOffThenWatch);
  REQUIRE(decide(Phase::kList, http(429)) == Next::kBackOffThenList);
}

TEST_CASE("5xx and transport errors back off in the same phase", "[policy]") {
  for (long status : {500L, 502L, 503L, 0L}) {
    REQUIRE(decide(Phase::kWatch, http(status)) == Next::kBackOffThenWatch);
    REQUIRE(decide(Phase::kList, http(status)) == Next::kBackOffThenList);
  }
}

TEST_CASE("504 ResourceVersionTooLarge on a watch leads to a list", "[policy]") {
  AttemptOutcome o = http(504);
  o.resource_version_too_large = true;
  REQUIRE(decide(Phase::kWatch, o) == Next::kList);
}

TEST_CASE("401 is retried at once after re-reading the token, then backs off", "[policy]") {
  AttemptOutcome o = http(401);
  REQUIRE(decide(Phase::kWatch, o) == Next::kRetryNow);
  o.auth_retried = true;
  REQUIRE(decide(Phase::kWatch, o) == Next::kBackOffThenWatch);
}

TEST_CASE("403 backs off", "[policy]") {
  REQUIRE(decide(Phase::kList, http(403)) == Next::kBackOffThenList);
}

TEST_CASE("stop wins over everything", "[policy]") {
  AttemptOutcome o = http(410);
  o.interrupted = true;
  REQUIRE(decide(Phase::kWatch, o) == Next::kStop);
}

TEST_CASE("an optional resource that answers 404 or 403 is looked at again later, not retried in a loop",
          "[policy]") {
  AttemptOutcome outcome;
  outcome.http_status = 404;
  outcome.unavailable = true;
  CHECK(decide(Phase::kList, outcome) == Next::kPauseThenList);
  CHECK(decide(Phase::kWatch, outcome) == Next::kPauseThenList);
  outcome.interrupted = true;
  CHECK(decide(Phase::kList, outcome) == Next::kStop);
}
