// lower_thread_priority: bulk validation yields the CPU to the nginx
// worker's event loop; the calling thread alone (and what it starts) is
// lowered, never the thread that called into the library.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "util/background_priority.h"

namespace {

int this_thread_nice() { return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid))); }

}  // namespace

TEST_CASE("a thread lowered to background priority leaves its caller alone, and its own threads inherit it",
          "[priority]") {
  const int caller = this_thread_nice();
  int lowered = 0, inherited = 0;
  bool ok = false;
  std::thread background([&] {
    ok = certsync::util::lower_thread_priority();
    lowered = this_thread_nice();
    std::thread helper([&] { inherited = this_thread_nice(); });
    helper.join();
  });
  background.join();
  REQUIRE(ok);
  const int expected = caller + certsync::util::kBackgroundNiceIncrement > 19
                           ? 19
                           : caller + certsync::util::kBackgroundNiceIncrement;
  REQUIRE(lowered == expected);
  REQUIRE(inherited == expected);
  REQUIRE(this_thread_nice() == caller);
}
