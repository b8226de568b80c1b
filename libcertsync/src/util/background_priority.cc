#include "util/background_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace certsync::util {

bool lower_thread_priority(int increment) {
  // On Linux the nice value belongs to each thread: PRIO_PROCESS with a
  // thread id changes that thread alone, not the nginx worker's event loop.
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, tid);
  if (current == -1 && errno != 0) return false;
  const int wanted = current + increment > 19 ? 19 : current + increment;
  return ::setpriority(PRIO_PROCESS, tid, wanted) == 0;
}

}  // namespace certsync::util
