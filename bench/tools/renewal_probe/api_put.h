/* The write whose acknowledgement starts the clock: one HTTPS PUT of a
 * Secret to the API server, the server's certificate verified against a CA
 * file, a bearer token read from a file (and never printed). */
#ifndef RENEWAL_PROBE_API_PUT_H
#define RENEWAL_PROBE_API_PUT_H

#include <stddef.h>

struct api_put {
  const char *url;        /* https://HOST:PORT, no path */
  const char *path;       /* e.g. /api/v1/namespaces/default/secrets/app-tls */
  const char *ca_file;
  const char *token;      /* the bearer token itself */
  const char *body;       /* the Secret's JSON */
  size_t body_len;
  /* Called once the status line has arrived, with its time and code, before
   * the rest of the response is read: the probes start from here. */
  void (*on_ack)(void *arg, double ack_at, int status);
  void *arg;
};

struct api_put_result {
  double sent_at;  /* just before the request's first byte was written */
  double ack_at;   /* when the status line was complete */
  int status;      /* its HTTP code */
};

/* Returns 0 when a status line arrived (whatever its code), -1 with a
 * message in err otherwise. */
int api_put_run(const struct api_put *put, struct api_put_result *out, char *err, size_t err_len);

#endif
