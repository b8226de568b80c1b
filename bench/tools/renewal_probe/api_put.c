#include "api_put.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "net.h"

/* https://HOST:PORT or https://[V6]:PORT into host and port. */
static int split_url(const char *url, char *host, size_t host_len, char *port, size_t port_len) {
  const char *p = url;
  if (strncmp(p, "https://", 8) != 0) return -1;
  p += 8;
  const char *host_end, *colon;
  if (*p == '[') {
    host_end = strchr(p, ']');
    if (!host_end) return -1;
    p++;
    colon = host_end + 1;
  } else {
    colon = strchr(p, ':');
    host_end = colon ? colon : p + strcspn(p, "/");
  }
  size_t n = (size_t)(host_end - p);
  if (n == 0 || n >= host_len) return -1;
  memcpy(host, p, n);
  host[n] = 0;
  if (colon && *colon == ':') {
    size_t m = strcspn(colon + 1, "/");
    if (m == 0 || m >= port_len) return -1;
    memcpy(port, colon + 1, m);
    port[m] = 0;
  } else {
    snprintf(port, port_len, "443");
  }
  return 0;
}

static int write_all(SSL *ssl, const char *buf, size_t len) {
  while (len > 0) {
    int n = SSL_write(ssl, buf, (int)len);
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

int api_put_run(const struct api_put *put, struct api_put_result *out, char *err, size_t err_len) {
  char host[256], port[16];
  int rc = -1, fd = -1;
  SSL_CTX *ctx = NULL;
  SSL *ssl = NULL;
  char *request = NULL;
  memset(out, 0, sizeof *out);
  if (split_url(put->url, host, sizeof host, port, sizeof port) != 0) {
    snprintf(err, err_len, "cannot read the API URL");
    return -1;
  }
  ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx || SSL_CTX_load_verify_locations(ctx, put->ca_file, NULL) != 1) {
    snprintf(err, err_len, "cannot load the CA file %s", put->ca_file);
    goto done;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  fd = tcp_connect(host, port, 5000, 0, NULL);
  if (fd < 0) {
    snprintf(err, err_len, "cannot connect to the API server");
    goto done;
  }
  ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host);
  } else {
    X509_VERIFY_PARAM_set1_host(param, host, 0);
    SSL_set_tlsext_host_name(ssl, host);
  }
  if (SSL_connect(ssl) != 1) {
    snprintf(err, err_len, "TLS to the API server failed: %s",
             ERR_reason_error_string(ERR_peek_last_error()) ? ERR_reason_error_string(ERR_peek_last_error()) : "?");
    goto done;
  }
  size_t cap = strlen(put->path) + strlen(host) + strlen(put->token) + 512;
  request = malloc(cap);
  int head = snprintf(request, cap,
                      "PUT %s HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/json\r\nAccept: application/json\r\n"
                      "User-Agent: certsync-renewal-probe\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                      put->path, host, port, put->token, put->body_len);
  out->sent_at = monotonic_seconds();
  if (write_all(ssl, request, (size_t)head) != 0 || write_all(ssl, put->body, put->body_len) != 0) {
    snprintf(err, err_len, "writing the PUT failed");
    goto done;
  }
  /* The token is in the request buffer: wipe it as soon as it is sent. */
  OPENSSL_cleanse(request, (size_t)head);

  char buf[16384];
  size_t have = 0;
  int acked = 0;
  for (;;) {
    int n = SSL_read(ssl, buf + have, (int)(sizeof buf - 1 - have));
    if (n <= 0) break;
    if (!acked) {
      double at = monotonic_seconds();
      have += (size_t)n;
      buf[have] = 0;
      if (strstr(buf, "\r\n")) {
        acked = 1;
        out->ack_at = at;
        if (sscanf(buf, "HTTP/%*s %d", &out->status) != 1) out->status = 0;
        if (put->on_ack) put->on_ack(put->arg, at, out->status);
        have = 0; /* the rest is drained only, so that the server can finish */
      } else if (have >= sizeof buf - 1) {
        break;
      }
    } else {
      have = 0;
    }
  }
  if (!acked) {
    snprintf(err, err_len, "the API server closed without a status line");
    goto done;
  }
  rc = 0;
done:
  if (request) free(request);
  if (ssl) SSL_free(ssl);
  if (fd >= 0) close(fd);
  if (ctx) SSL_CTX_free(ctx);
  return rc;
}
