/* renewal-probe: how long after the API server acknowledges a Secret's
 * replacement every nginx worker serves the new certificate in a completed
 * TLS handshake.
 *
 *   renewal-probe --target 127.0.0.1:PORT --sni NAME --serial HEX --workers N
 *                 [--pin 1] [--parallel 4] [--interval-us 0] [--timeout-ms 10000]
 *                 [--id-path /certsync-bench/worker-id]
 *                 [--api-url https://H:P --api-path PATH --ca-file F --token-file F --body-file F]
 *
 * With the --api-* options it PUTs the body and starts the clock when the
 * response's status line arrives; without them (a baseline) the clock starts
 * at once and the serial is the one already served, which measures what the
 * probe itself takes to reach every worker.
 *
 * nginx listens with reuseport: the kernel picks a worker by a hash of the
 * connection's 4-tuple. With --pin 1 (default) the probe first learns, before
 * the clock starts, one local port per worker, then runs one thread per
 * worker, each reconnecting from its port (reset on close, so the port is
 * free again at once) until its worker completes a handshake with the new
 * serial: the time a worker is found late is one handshake, not the luck of
 * the draw. With --pin 0, --parallel threads connect from any port until
 * every worker id has been seen. Every probe still reads the worker id, so a
 * port that stops reaching its worker is counted (misrouted), never trusted.
 * --interval-us: a pause between one thread's probes, to weigh the probe's
 * own load. One JSON object on stdout; times in ms from the clock's start.
 * Exit 0 when every worker was seen, 2 on the deadline, 1 on errors. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_put.h"
#include "clock.h"
#include "tls_probe.h"

#define MAX_WORKERS 64
#define MAX_PARALLEL 32

struct run {
  struct probe_target target;
  char serial[80];
  int workers;
  double deadline_s;

  pthread_mutex_t mu;
  pthread_cond_t started;
  int go;          /* 1: probe; -1: give up (the write failed) */
  int done;
  double t0;
  double t0_unix;  /* the same instant on CLOCK_REALTIME, to compare with nginx's own stamps */
  double deadline;
  double first_new[MAX_WORKERS];  /* ms, < 0 until the worker serves it */
  double last_old[MAX_WORKERS];   /* ms of the latest handshake still on another serial */
  int seen;
  long probes, old, failed, misrouted;
  long failures[PROBE_FAILURE_KINDS];  /* by -probe_failure - 1 */
  int pinned;      /* 1: one thread per worker, from ports[worker] */
  int ports[MAX_WORKERS];
  int interval_us;
};

struct thread_arg {
  struct run *run;
  int worker;      /* pinned: the worker this thread probes; else -1 */
};

static void start_clock(struct run *r, double at, int ok) {
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  pthread_mutex_lock(&r->mu);
  r->t0 = at;
  r->t0_unix = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
  r->deadline = at + r->deadline_s;
  r->go = ok ? 1 : -1;
  pthread_cond_broadcast(&r->started);
  pthread_mutex_unlock(&r->mu);
}

static void on_ack(void *arg, double at, int status) {
  start_clock(arg, at, status >= 200 && status < 300);
}

static void pause_us(int us) {
  if (us <= 0) return;
  struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };
  nanosleep(&ts, NULL);
}

static void *probe_loop(void *arg) {
  struct thread_arg *a = arg;
  struct run *r = a->run;
  pthread_mutex_lock(&r->mu);
  while (r->go == 0) pthread_cond_wait(&r->started, &r->mu);
  pthread_mutex_unlock(&r->mu);
  if (r->go < 0) return NULL;
  const int pinned_port = a->worker >= 0 ? r->ports[a->worker] : 0;
  int port = pinned_port;
  for (;;) {
    struct probe_result res;
    int rc = probe_once(&r->target, port, &res);
    /* Another process may hold the port for a while (any connect can pick
     * it once it is free): after a failure, one attempt from any port, then
     * the pinned one again. */
    port = rc != 0 && port != 0 ? 0 : pinned_port;
    pthread_mutex_lock(&r->mu);
    int stop = r->done || monotonic_seconds() > r->deadline;
    if (!stop) {
      r->probes++;
      if (rc != 0 || res.worker >= r->workers) {
        r->failed++;
        if (rc < 0 && -rc <= PROBE_FAILURE_KINDS) r->failures[-rc - 1]++;
      } else {
        double ms = (res.handshake_at - r->t0) * 1000.0;
        if (a->worker >= 0 && res.worker != a->worker) r->misrouted++;
        if (strcmp(res.serial, r->serial) != 0) {
          r->old++;
          if (ms > r->last_old[res.worker]) r->last_old[res.worker] = ms;
        } else if (r->first_new[res.worker] < 0) {
          r->first_new[res.worker] = ms;
          if (++r->seen == r->workers) r->done = 1;
        }
      }
      /* Pinned: this thread's worker is done; the others have their own. */
      stop = r->done || (a->worker >= 0 && r->first_new[a->worker] >= 0);
    }
    pthread_mutex_unlock(&r->mu);
    if (stop) return NULL;
    pause_us(r->interval_us);
  }
}

/* Before the clock: one local port per worker, found by connecting from
 * successive ports until every worker id has answered. The ports are taken
 * below the kernel's ephemeral range (Linux's default starts at 32768), so
 * that no other connection on the machine is handed one of them between two
 * probes; one that is in use anyway is skipped. 0 when not all were found. */
#define PINNED_PORT_FIRST 20000
#define PINNED_PORT_SPAN 12000
static int learn_ports(struct run *r, double seconds) {
  int found = 0;
  for (int w = 0; w < r->workers; w++) r->ports[w] = 0;
  /* A different start each run: the previous run's ports may still be held briefly. */
  int offset = (int)((long)(monotonic_seconds() * 1000.0) % PINNED_PORT_SPAN);
  double until = monotonic_seconds() + seconds;
  for (int k = 0; found < r->workers && k < PINNED_PORT_SPAN && monotonic_seconds() < until; k++) {
    int port = PINNED_PORT_FIRST + (offset + k) % PINNED_PORT_SPAN;
    struct probe_result res;
    if (probe_once(&r->target, port, &res) != 0 || res.worker >= r->workers) continue;
    if (r->ports[res.worker] == 0) {
      r->ports[res.worker] = port;
      found++;
    }
  }
  return found == r->workers;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += got;
    if (n + 1 >= cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  if (!buf) return NULL;
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

static void usage(void) {
  fprintf(stderr, "usage: renewal-probe --target HOST:PORT --sni NAME --serial HEX --workers N "
                  "[--pin 1|0] [--parallel K] [--interval-us US] [--timeout-ms MS] [--id-path PATH] "
                  "[--api-url URL --api-path PATH --ca-file F --token-file F --body-file F]\n");
  exit(1);
}

int main(int argc, char **argv) {
  static struct run r;
  const char *target = NULL, *serial = NULL, *api_url = NULL, *api_path = NULL, *ca_file = NULL,
             *token_file = NULL, *body_file = NULL;
  int parallel = 4, timeout_ms = 10000, pin = 1;
  r.target.id_path = "/certsync-bench/worker-id";
  for (int i = 1; i < argc; i++) {
    const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    i++;
    if (!strcmp(k, "--target")) target = v;
    else if (!strcmp(k, "--sni")) r.target.sni = v;
    else if (!strcmp(k, "--serial")) serial = v;
    else if (!strcmp(k, "--workers")) r.workers = atoi(v);
    else if (!strcmp(k, "--parallel")) parallel = atoi(v);
    else if (!strcmp(k, "--pin")) pin = atoi(v);
    else if (!strcmp(k, "--interval-us")) r.interval_us = atoi(v);
    else if (!strcmp(k, "--timeout-ms")) timeout_ms = atoi(v);
    else if (!strcmp(k, "--id-path")) r.target.id_path = v;
    else if (!strcmp(k, "--api-url")) api_url = v;
    else if (!strcmp(k, "--api-path")) api_path = v;
    else if (!strcmp(k, "--ca-file")) ca_file = v;
    else if (!strcmp(k, "--token-file")) token_file = v;
    else if (!strcmp(k, "--body-file")) body_file = v;
    else usage();
  }
  if (!target || !r.target.sni || !serial || r.workers < 1 || r.workers > MAX_WORKERS || parallel < 1 ||
      parallel > MAX_PARALLEL)
    usage();
  int put = api_url != NULL;
  if (put && (!api_path || !ca_file || !token_file || !body_file)) usage();

  static char host[256];
  const char *colon = strrchr(target, ':');
  if (!colon || (size_t)(colon - target) >= sizeof host) usage();
  memcpy(host, target, (size_t)(colon - target));
  host[colon - target] = 0;
  r.target.host = host;
  r.target.port = colon + 1;
  serial_normalise(serial, r.serial, sizeof r.serial);
  r.deadline_s = timeout_ms / 1000.0;
  for (int w = 0; w < MAX_WORKERS; w++) r.first_new[w] = r.last_old[w] = -1;
  pthread_mutex_init(&r.mu, NULL);
  pthread_cond_init(&r.started, NULL);
  r.target.ctx = probe_ctx_new();
  if (!r.target.ctx) return 1;

  r.pinned = pin && learn_ports(&r, 5.0);
  int threads_n = r.pinned ? r.workers : parallel;
  /* The threads exist before the write, so that starting them costs nothing
   * after the acknowledgement. */
  static pthread_t threads[MAX_WORKERS > MAX_PARALLEL ? MAX_WORKERS : MAX_PARALLEL];
  static struct thread_arg thread_args[MAX_WORKERS > MAX_PARALLEL ? MAX_WORKERS : MAX_PARALLEL];
  for (int i = 0; i < threads_n; i++) {
    thread_args[i].run = &r;
    thread_args[i].worker = r.pinned ? i : -1;
    pthread_create(&threads[i], NULL, probe_loop, &thread_args[i]);
  }

  struct api_put_result put_result = { 0 };
  char err[256] = "";
  int put_rc = 0;
  if (put) {
    size_t body_len = 0, token_len = 0;
    char *body = read_file(body_file, &body_len);
    char *token = read_file(token_file, &token_len);
    if (!body || !token) {
      snprintf(err, sizeof err, "cannot read the body or the token file");
      put_rc = -1;
      start_clock(&r, monotonic_seconds(), 0);
    } else {
      while (token_len > 0 && (token[token_len - 1] == '\n' || token[token_len - 1] == '\r')) token[--token_len] = 0;
      struct api_put req = { api_url, api_path, ca_file, token, body, body_len, on_ack, &r };
      put_rc = api_put_run(&req, &put_result, err, sizeof err);
      pthread_mutex_lock(&r.mu);
      int started = r.go != 0;
      pthread_mutex_unlock(&r.mu);
      if (put_rc != 0 && !started) start_clock(&r, monotonic_seconds(), 0); /* no status line: release the threads */
    }
    if (token) OPENSSL_cleanse(token, token_len);
    free(token);
    free(body);
  } else {
    start_clock(&r, monotonic_seconds(), 1);
  }
  for (int i = 0; i < threads_n; i++) pthread_join(threads[i], NULL);

  double first = -1, all = -1;
  for (int w = 0; w < r.workers; w++) {
    double t = r.first_new[w];
    if (t >= 0 && (first < 0 || t < first)) first = t;
    if (t > all) all = t;
  }
  if (r.seen != r.workers) all = -1; /* not every worker: no "every worker" time */
  printf("{\"status\":%d,\"ack_unix\":%.6f,\"put_ms\":%.3f,\"first_ms\":%.3f,\"all_ms\":%.3f,\"seen\":%d,\"probes\":%ld,"
         "\"old\":%ld,\"failed\":%ld,\"misrouted\":%ld,\"pinned\":%s,\"threads\":%d,\"workers\":[",
         put ? put_result.status : 0, r.t0_unix, put ? (put_result.ack_at - put_result.sent_at) * 1000.0 : 0.0, first, all,
         r.seen, r.probes, r.old, r.failed, r.misrouted, r.pinned ? "true" : "false", threads_n);
  for (int w = 0; w < r.workers; w++) printf("%s%.3f", w ? "," : "", r.first_new[w]);
  printf("],\"last_old\":[");
  for (int w = 0; w < r.workers; w++) printf("%s%.3f", w ? "," : "", r.last_old[w]);
  printf("],\"failures\":{\"connect\":%ld,\"handshake\":%ld,\"serial\":%ld,\"worker_id\":%ld}", r.failures[0],
         r.failures[1], r.failures[2], r.failures[3]);
  if (put_rc != 0 || (put && (put_result.status < 200 || put_result.status >= 300)))
    printf(",\"error\":\"%s\"", err[0] ? err : "the PUT was not accepted");
  printf("}\n");
  if (put_rc != 0 || (put && (put_result.status < 200 || put_result.status >= 300))) return 1;
  return r.seen == r.workers ? 0 : 2;
}
