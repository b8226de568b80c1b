/* served_names: which certificate the server sends for each name.
 *
 *   served_names PORT SNI...
 *
 * For each SNI, in order: a fresh connection to 127.0.0.1:PORT, a full TLS
 * handshake offering that name, and one line on stdout: the leaf's subject
 * CN, or "-" when the handshake did not complete or sent no leaf. The
 * handshake completing means the server proved it holds the leaf's key. One
 * process for every name: starting an openssl process per name cost more
 * than the names' handshakes (initial_sync's sample of 40). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int connect_local(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct timeval timeout = {10, 0}; /* a server that stalls is a failure, not a hang */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Writes the leaf's CN into cn (or "-"). */
static void served_cn(SSL_CTX *ctx, int port, const char *sni, char *cn, int cn_len) {
  snprintf(cn, (size_t)cn_len, "-");
  int fd = connect_local(port);
  if (fd < 0) return;
  SSL *ssl = SSL_new(ctx);
  if (ssl != NULL && SSL_set_tlsext_host_name(ssl, sni) == 1 && SSL_set_fd(ssl, fd) == 1 &&
      SSL_connect(ssl) == 1) {
    X509 *leaf = SSL_get1_peer_certificate(ssl);
    if (leaf != NULL) {
      if (X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, cn_len) <= 0) {
        snprintf(cn, (size_t)cn_len, "-");
      }
      X509_free(leaf);
    }
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PORT SNI...\n", argv[0]);
    return 2;
  }
  const int port = atoi(argv[1]);
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL) return 1;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* the caller compares the CN */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  for (int i = 2; i < argc; i++) {
    char cn[256];
    served_cn(ctx, port, argv[i], cn, sizeof cn);
    printf("%s\n", cn);
  }
  SSL_CTX_free(ctx);
  return 0;
}
