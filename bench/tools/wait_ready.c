/* wait_ready: asks http://127.0.0.1:PORT/PATH every 10 ms until it answers
 * 200, then exits 0 (1 after DEADLINE seconds).
 *
 *   wait_ready PORT PATH DEADLINE_SECONDS
 *
 * A benchmark timing a node's first sync on two cores must not spend a
 * core of its own looking: a `curl` forked every 20 ms cost 12 % of the
 * machine's samples in a profile of bench/initial_sync.lua. One process
 * with one short connection per look costs a few tens of microseconds a
 * look. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The status code of one GET, or -1 when there was no answer. */
static int status_of(int port, const char *path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int code = -1;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
    char request[512];
    int n = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (n > 0 && n < (int)sizeof request && write(fd, request, (size_t)n) == n) {
      char head[64];
      ssize_t got = 0, r;
      while (got < (ssize_t)sizeof head - 1 && (r = read(fd, head + got, sizeof head - 1 - (size_t)got)) > 0) got += r;
      head[got] = '\0';
      if (strncmp(head, "HTTP/1.", 7) == 0 && got >= 12) code = atoi(head + 9);
    }
  }
  close(fd);
  return code;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PORT PATH DEADLINE_SECONDS\n", argv[0]);
    return 2;
  }
  const int port = atoi(argv[1]);
  const double deadline = now_seconds() + atof(argv[3]);
  const struct timespec interval = {0, 10 * 1000 * 1000};
  int code = -1;
  while ((code = status_of(port, argv[2])) != 200) {
    if (now_seconds() > deadline) {
      fprintf(stderr, "%s answered %d until the deadline\n", argv[2], code);
      return 1;
    }
    nanosleep(&interval, NULL);
  }
  return 0;
}
