// ConnectionConfig: how to reach and authenticate to one API server, however
// it was configured (explicit settings, in-cluster service account, or a
// kubeconfig context). The transport turns it into libcurl options.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "util/secret_bytes.h"

namespace certsync::kube {

struct ConnectionConfig {
  std::string server;                  // https://host:port[/prefix], no trailing slash
  // Trust: a CA file (re-read when it changes) or PEM held in memory; neither
  // means the system store. insecure_skip_tls_verify turns verification off.
  std::string ca_file;
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;         // verify and send SNI for this name instead of the URL's host
  // Authentication: a token file (re-read: projected tokens rotate), an inline
  // token, and/or a client certificate and key (as files or PEM in memory).
  std::string token_file;
  SecretBytes token;
  std::string client_cert_file;
  std::string client_cert_pem;
  std::string client_key_file;
  SecretBytes client_key_pem;
  // The namespace the source names (kubeconfig context, in-cluster namespace
  // file); used when the watch scope does not name one.
  std::string default_namespace;
};

// Either a usable configuration or an error that names the file or field.
using ConnectionResult = std::variant<ConnectionConfig, std::string>;

}  // namespace certsync::kube
