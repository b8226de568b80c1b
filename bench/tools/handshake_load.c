/* handshake_load: full TLS handshakes on fresh connections, for a duration.
 *
 *   handshake_load --port P --sni NAME --tls 1.2|1.3 --sig ecdsa|rsa
 *                  --seconds S [--concurrency C] [--expect SHA256HEX] [--timeout S]
 *
 * Every connection is new and every handshake is full: no session is kept,
 * the client asks for no ticket, and each SSL object is used once. The
 * signature algorithms offered decide which certificate a server holding
 * both an RSA and an ECDSA one must pick. A handshake counts as done only
 * when SSL_connect returned 1 (the client has checked the server's
 * CertificateVerify and Finished, so the server proved it holds the key of
 * the certificate it sent) and, with --expect, when the leaf's SHA-256
 * fingerprint is the one expected. Everything else is a failure, and so is
 * a handshake the server leaves waiting longer than --timeout (default 5 s):
 * a real client would have given up. The caller treats a run with any
 * failure as invalid.
 *
 * C threads each keep one connection in flight. The result is one JSON line
 * on stdout. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct options {
  int port;
  const char *sni;
  const char *tls;
  const char *sig;
  double seconds;
  int concurrency;
  const char *expect; /* hex SHA-256 of the leaf's DER, or NULL */
  double timeout;     /* seconds a connect or a read/write may wait */
};

struct counts {
  long ok;
  long failed;
  long wrong_cert;
  char first_error[200];
  char served[2 * 32 + 1]; /* fingerprint of the first leaf seen */
};

struct worker {
  pthread_t thread;
  const struct options *opts;
  SSL_CTX *ctx;
  double deadline;
  struct counts counts;
};

static double monotonic(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note_error(struct counts *c, const char *what) {
  if (c->first_error[0]) return;
  unsigned long e = ERR_peek_last_error();
  char reason[120] = "";
  if (e) ERR_error_string_n(e, reason, sizeof reason);
  snprintf(c->first_error, sizeof c->first_error, "%s%s%s", what, reason[0] ? ": " : "", reason);
}

static void hex(const unsigned char *in, unsigned len, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (unsigned i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * len] = 0;
}

/* Fills fp with the served leaf's fingerprint; returns 0 when there is none. */
static int leaf_fingerprint(SSL *ssl, char fp[2 * 32 + 1]) {
  X509 *leaf = SSL_get1_peer_certificate(ssl);
  if (!leaf) return 0;
  unsigned char md[32];
  unsigned len = 0;
  int ok = X509_digest(leaf, EVP_sha256(), md, &len) == 1 && len == 32;
  X509_free(leaf);
  if (ok) hex(md, len, fp);
  return ok;
}

static int connect_tcp(int port, double timeout) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct timeval tv = { (time_t)timeout, (suseconds_t)((timeout - (double)(time_t)timeout) * 1e6) };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  /* Close with RST instead of lingering in TIME_WAIT: tens of thousands of
   * short connections would otherwise exhaust the local ports. */
  struct linger lg = { 1, 0 };
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  struct sockaddr_in addr = { 0 };
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* One connection, one full handshake. */
static void handshake_once(struct worker *w) {
  struct counts *c = &w->counts;
  int fd = connect_tcp(w->opts->port, w->opts->timeout);
  if (fd < 0) {
    c->failed++;
    if (!c->first_error[0]) snprintf(c->first_error, sizeof c->first_error, "connect: %s", strerror(errno));
    return;
  }
  SSL *ssl = SSL_new(w->ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, w->opts->sni);
  ERR_clear_error();
  if (SSL_connect(ssl) != 1) {
    c->failed++;
    note_error(c, "handshake");
  } else {
    char fp[2 * 32 + 1];
    if (!leaf_fingerprint(ssl, fp)) {
      c->failed++;
      note_error(c, "no certificate");
    } else if (w->opts->expect && strcasecmp(fp, w->opts->expect) != 0) {
      c->wrong_cert++;
      if (!c->first_error[0]) snprintf(c->first_error, sizeof c->first_error, "served %s", fp);
    } else {
      c->ok++;
    }
    if (!c->served[0]) memcpy(c->served, fp, sizeof fp);
    /* close_notify lets the server end the connection as a client would;
     * it reads the client's Finished before it, so its handshake is done. */
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  close(fd);
}

static void *run(void *arg) {
  struct worker *w = arg;
  while (monotonic() < w->deadline) handshake_once(w);
  return NULL;
}

static SSL_CTX *client_ctx(const struct options *o) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return NULL;
  int version = strcmp(o->tls, "1.2") == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
  SSL_CTX_set_min_proto_version(ctx, version);
  SSL_CTX_set_max_proto_version(ctx, version);
  /* No resumption of any kind: every handshake is a full one. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  /* The probe checks the served certificate by fingerprint, not by a CA. */
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  const char *sigalgs = strcmp(o->sig, "rsa") == 0 ? "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"
                                                   : "ecdsa_secp256r1_sha256";
  if (SSL_CTX_set1_sigalgs_list(ctx, sigalgs) != 1) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

static void usage(void) {
  fprintf(stderr, "usage: handshake_load --port P --sni NAME --tls 1.2|1.3 --sig ecdsa|rsa "
                  "--seconds S [--concurrency C] [--expect SHA256HEX] [--timeout S]\n");
  exit(2);
}

static void parse(int argc, char **argv, struct options *o) {
  for (int i = 1; i < argc; i++) {
    const char *k = argv[i];
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (!strcmp(k, "--port")) o->port = atoi(v);
    else if (!strcmp(k, "--sni")) o->sni = v;
    else if (!strcmp(k, "--tls")) o->tls = v;
    else if (!strcmp(k, "--sig")) o->sig = v;
    else if (!strcmp(k, "--seconds")) o->seconds = atof(v);
    else if (!strcmp(k, "--concurrency")) o->concurrency = atoi(v);
    else if (!strcmp(k, "--expect")) o->expect = v;
    else if (!strcmp(k, "--timeout")) o->timeout = atof(v);
    else usage();
  }
  if (o->port <= 0 || !o->sni || !o->tls || !o->sig || o->seconds <= 0 || o->concurrency < 1 || o->timeout <= 0)
    usage();
  if (strcmp(o->tls, "1.2") && strcmp(o->tls, "1.3")) usage();
  if (strcmp(o->sig, "rsa") && strcmp(o->sig, "ecdsa")) usage();
}

int main(int argc, char **argv) {
  struct options o = { .concurrency = 1, .timeout = 5 };
  parse(argc, argv, &o);
  /* A server that closes first must cost a failed handshake, not the process. */
  signal(SIGPIPE, SIG_IGN);
  SSL_CTX *ctx = client_ctx(&o);
  if (!ctx) {
    fprintf(stderr, "handshake_load: cannot set up the client context\n");
    return 1;
  }
  struct worker *workers = calloc((size_t)o.concurrency, sizeof *workers);
  if (!workers) return 1;
  double start = monotonic();
  for (int i = 0; i < o.concurrency; i++) {
    workers[i].opts = &o;
    workers[i].ctx = ctx;
    workers[i].deadline = start + o.seconds;
    if (pthread_create(&workers[i].thread, NULL, run, &workers[i]) != 0) {
      fprintf(stderr, "handshake_load: cannot start a thread\n");
      return 1;
    }
  }
  struct counts total = { 0 };
  for (int i = 0; i < o.concurrency; i++) {
    pthread_join(workers[i].thread, NULL);
    struct counts *c = &workers[i].counts;
    total.ok += c->ok;
    total.failed += c->failed;
    total.wrong_cert += c->wrong_cert;
    if (!total.first_error[0]) memcpy(total.first_error, c->first_error, sizeof c->first_error);
    if (!total.served[0]) memcpy(total.served, c->served, sizeof c->served);
  }
  double elapsed = monotonic() - start;
  /* first_error holds OpenSSL's reason strings or "served <hex>": no quotes to escape. */
  printf("{\"ok\":%ld,\"failed\":%ld,\"wrong_cert\":%ld,\"seconds\":%.6f,\"served\":\"%s\",\"first_error\":\"%s\"}\n",
         total.ok, total.failed, total.wrong_cert, elapsed, total.served, total.first_error);
  SSL_CTX_free(ctx);
  free(workers);
  return 0;
}
