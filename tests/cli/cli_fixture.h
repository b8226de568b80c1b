// What the CLI tests share: a scratch directory, certificate/key pairs made
// at run time, kubeconfig variants of the API test server's, a port where
// nothing listens, and the check that output carries no secret.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "test_server_process.h"
#include "tls_test_certs.h"

namespace certsync::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `content` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

struct PemPair {
  std::string cert;
  std::string key;
};

// A fresh EC P-256 key and a self-signed leaf for `dns_names`, valid now.
PemPair make_pair(const std::vector<std::string>& dns_names);

// The API test server's kubeconfig with its server URL replaced (e.g. by a
// port where nothing listens), written into `dir`.
std::string kubeconfig_with_server(const TestServerProcess& server, const TempDir& dir, const std::string& url);
// Its kubeconfig with the user's credentials replaced by `user_yaml` (the
// lines under `user:`, indented by four spaces).
std::string kubeconfig_with_user(const TestServerProcess& server, const TempDir& dir, const std::string& user_yaml);
std::string kubeconfig_of(const TestServerProcess& server);

// A loopback TCP port that is bound but not listening, for as long as this
// lives: a connection to it is refused, and no other process can take it.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Fails the test when `text` holds any part of `key_pem` (a PEM line, the
// base64 the Secret's data holds it in, the PEM header) or `token`.
void require_no_secret(const std::string& text, const std::string& key_pem, const std::string& token = "");

nlohmann::json parse_json(const std::string& text);

}  // namespace certsync::testing
