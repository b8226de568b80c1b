// TlsProbe: one completed TLS handshake as a client, with SNI, reporting the
// certificate the server chose. Verification is never required to finish the
// handshake (the point is to see what is served, trusted or not); with a CA
// file the result of verifying the chain and the SNI against it is reported.
#pragma once

#include <optional>
#include <string>

#include "cert_facts.h"

namespace certsync::cli {

struct ProbeRequest {
  std::string host;
  std::string port;
  std::string sni;
  std::string ca_file;  // empty: no verification
  int timeout_ms = 10000;
};

struct ProbeResult {
  CertFacts leaf;
  int chain_length = 0;  // certificates the server sent, leaf included
  std::string protocol;  // "TLSv1.3"
  std::string cipher;
  // With ca_file: "" when the chain and the name verified, else OpenSSL's reason.
  std::optional<std::string> verify_error;
};

// Throws Failure(kUnreachable) when no handshake completes (connection,
// timeout, TLS alert), UsageError when ca_file cannot be loaded.
ProbeResult probe_tls(const ProbeRequest& request);

}  // namespace certsync::cli
