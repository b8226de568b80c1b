#include "tls_probe.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "args.h"
#include "exit_codes.h"
#include "tcp_connect.h"

namespace certsync::cli {

namespace {

using SslCtx = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using Ssl = std::unique_ptr<SSL, decltype(&SSL_free)>;

struct Socket {
  int fd;
  ~Socket() {
    if (fd >= 0) close(fd);
  }
};

// The first queued OpenSSL error, e.g. "tlsv1 alert internal error".
std::string openssl_reason(const char* fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : fallback;
}

}  // namespace

ProbeResult probe_tls(const ProbeRequest& request) {
  const std::string endpoint = request.host + ":" + request.port;
  SslCtx ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) throw Failure(kInternal, "OpenSSL cannot create a TLS context");
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  if (!request.ca_file.empty() && SSL_CTX_load_verify_locations(ctx.get(), request.ca_file.c_str(), nullptr) != 1) {
    ERR_clear_error();
    throw UsageError("--ca " + request.ca_file + " cannot be read as PEM certificates");
  }

  std::string error;
  Socket socket{tcp_connect(request.host, request.port, request.timeout_ms, &error)};
  if (socket.fd < 0) throw Failure(kUnreachable, "cannot connect to " + endpoint + ": " + error);

  Ssl ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl || SSL_set_fd(ssl.get(), socket.fd) != 1) throw Failure(kInternal, "OpenSSL cannot set up a connection");
  SSL_set_tlsext_host_name(ssl.get(), request.sni.c_str());
  // Checked against the SNI, as a browser would; reported, never enforced here.
  X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl.get()), request.sni.c_str(), 0);
  if (const int rc = SSL_connect(ssl.get()); rc != 1) {
    const int saved_errno = errno;
    const bool timed_out = SSL_get_error(ssl.get(), rc) == SSL_ERROR_SYSCALL &&
                           (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
    throw Failure(kUnreachable, "TLS handshake with " + endpoint + " (SNI " + request.sni + ") failed: " +
                                    (timed_out ? std::string("timed out") : openssl_reason("connection closed")));
  }

  std::unique_ptr<X509, decltype(&X509_free)> leaf(SSL_get1_peer_certificate(ssl.get()), X509_free);
  if (!leaf) throw Failure(kUnreachable, endpoint + " completed the handshake without a certificate");
  ProbeResult result;
  result.leaf = facts_of(leaf.get());
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl.get());
  result.chain_length = chain != nullptr ? sk_X509_num(chain) : 1;
  result.protocol = SSL_get_version(ssl.get());
  result.cipher = SSL_get_cipher_name(ssl.get());
  if (!request.ca_file.empty()) {
    const long verified = SSL_get_verify_result(ssl.get());
    result.verify_error = verified == X509_V_OK ? std::string() : X509_verify_cert_error_string(verified);
  }
  SSL_shutdown(ssl.get());  // close_notify; the answer does not matter
  return result;
}

}  // namespace certsync::cli
