/* The one clock the probe reads: CLOCK_MONOTONIC, so an NTP step between the
 * acknowledgement and a handshake cannot bend a latency. */
#ifndef RENEWAL_PROBE_CLOCK_H
#define RENEWAL_PROBE_CLOCK_H

#include <time.h>

static inline double monotonic_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
