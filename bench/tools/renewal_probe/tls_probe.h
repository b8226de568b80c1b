/* One probe of the server under test: a fresh TCP connection, a full TLS
 * handshake with the SNI (no session reuse, so the certificate phase runs),
 * the served leaf's serial, then on the same connection a GET of a location
 * that answers the nginx worker's id. */
#ifndef RENEWAL_PROBE_TLS_PROBE_H
#define RENEWAL_PROBE_TLS_PROBE_H

#include <openssl/ssl.h>

struct probe_target {
  const char *host;
  const char *port;
  const char *sni;
  const char *id_path;  /* e.g. /certsync-bench/worker-id */
  SSL_CTX *ctx;         /* from probe_ctx_new, shared by the threads */
};

struct probe_result {
  double handshake_at;  /* when the client's handshake completed */
  char serial[80];      /* uppercase hex, no leading zeros */
  int worker;           /* the id the worker answered, -1 if none */
  int local_port;       /* the client port it connected from */
};

/* A client context that accepts any server certificate: the probe reads the
 * serial, it does not judge the chain. The handshake still proves the server
 * holds the leaf's key (TLS 1.3 CertificateVerify, checked whatever the
 * verify mode). */
SSL_CTX *probe_ctx_new(void);

/* Why a probe failed, as its (negative) return value. */
enum probe_failure {
  PROBE_CONNECT = -1,    /* no TCP connection (includes the local port being taken) */
  PROBE_HANDSHAKE = -2,  /* the TLS handshake did not complete */
  PROBE_SERIAL = -3,     /* no leaf certificate to read */
  PROBE_WORKER_ID = -4,  /* no worker id in the answer */
};
#define PROBE_FAILURE_KINDS 4

/* 0 on a completed handshake and a worker id; a probe_failure otherwise. local_port: 0
 * for any; a port that reached a worker before reaches it again, because
 * the kernel picks the reuseport listener by a hash of the 4-tuple. */
int probe_once(const struct probe_target *t, int local_port, struct probe_result *r);

/* Uppercases and strips leading zeros so that two spellings compare. */
void serial_normalise(const char *in, char *out, size_t out_len);

#endif
