#define _GNU_SOURCE /* strcasestr */
#include "tls_probe.h"

#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "net.h"

SSL_CTX *probe_ctx_new(void) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return NULL;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  /* Every probe must run the certificate phase: no session is cached, none
   * offered, so no handshake resumes. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  return ctx;
}

void serial_normalise(const char *in, char *out, size_t out_len) {
  while (*in == '0' && in[1]) in++;
  size_t i = 0;
  for (; in[i] && i + 1 < out_len; i++) out[i] = (char)toupper((unsigned char)in[i]);
  out[i] = 0;
}

static int read_serial(SSL *ssl, char *out, size_t out_len) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  X509 *leaf = SSL_get1_peer_certificate(ssl);
#else
  X509 *leaf = SSL_get_peer_certificate(ssl);
#endif
  if (!leaf) return -1;
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(leaf), NULL);
  char *hex = bn ? BN_bn2hex(bn) : NULL;
  int rc = -1;
  if (hex) {
    serial_normalise(hex, out, out_len);
    rc = 0;
  }
  OPENSSL_free(hex);
  BN_free(bn);
  X509_free(leaf);
  return rc;
}

/* HTTP/1.1 with a keep-alive connection and a sized body (the location sets
 * Content-Length), so that the client, not nginx, closes: with a reset, so
 * that no TIME_WAIT keeps the 4-tuple from being used again at once. */
static int read_worker_id(SSL *ssl, const char *sni, const char *path) {
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, sni);
  if (n <= 0 || n >= (int)sizeof req || SSL_write(ssl, req, n) != n) return -1;
  char buf[2048];
  size_t have = 0;
  const char *body = NULL;
  long length = -1;
  for (;;) {
    int got = SSL_read(ssl, buf + have, (int)(sizeof buf - 1 - have));
    if (got <= 0) break;
    have += (size_t)got;
    buf[have] = 0;
    if (!body && (body = strstr(buf, "\r\n\r\n")) != NULL) {
      body += 4;
      const char *cl = strcasestr(buf, "\r\nContent-Length:");
      if (!cl || cl > body) return -1;
      length = strtol(cl + 17, NULL, 10);
    }
    if (body && (long)(have - (size_t)(body - buf)) >= length) break;
    if (have >= sizeof buf - 1) return -1;
  }
  if (!body) return -1;
  int status = 0;
  if (sscanf(buf, "HTTP/%*s %d", &status) != 1 || status != 200) return -1;
  char *end;
  long id = strtol(body, &end, 10);
  if (end == body || id < 0) return -1;
  return (int)id;
}

int probe_once(const struct probe_target *t, int local_port, struct probe_result *r) {
  r->worker = -1;
  r->serial[0] = 0;
  r->local_port = 0;
  int fd = tcp_connect(t->host, t->port, 2000, local_port, &r->local_port);
  if (fd < 0) return PROBE_CONNECT;
  SSL *ssl = SSL_new(t->ctx);
  int rc = PROBE_HANDSHAKE;
  if (!ssl) goto done;
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, t->sni);
  if (SSL_connect(ssl) != 1) goto done;
  r->handshake_at = monotonic_seconds();
  rc = PROBE_SERIAL;
  if (read_serial(ssl, r->serial, sizeof r->serial) != 0) goto done;
  r->worker = read_worker_id(ssl, t->sni, t->id_path);
  rc = r->worker >= 0 ? 0 : PROBE_WORKER_ID;
done:
  if (ssl) SSL_free(ssl);
  tcp_abort(fd);
  return rc;
}
