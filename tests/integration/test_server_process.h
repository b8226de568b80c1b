// TestServerProcess: runs the project's Kubernetes API test server as a
// child process for one test, and writes Secrets to it over HTTPS.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace certsync::testing {

// Polls `condition` every 10 ms until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

class TestServerProcess {
 public:
  struct Options {
    long bookmark_interval_ms = 60000;
    long history = 1000;
    std::string cert_manager = "absent";  // --cert-manager: absent, served or forbidden
    // Keep the store and the TLS identity in DIR/state.json across stop() and
    // start_again(), as a real API server keeps etcd (the server's --state).
    bool restartable = false;
  };
  explicit TestServerProcess(Options options);  // starts the server and waits until it listens
  TestServerProcess() : TestServerProcess(Options{}) {}
  ~TestServerProcess();  // SIGTERM, then waits for it
  TestServerProcess(const TestServerProcess&) = delete;
  TestServerProcess& operator=(const TestServerProcess&) = delete;

  // Outages (Options::restartable): stop() ends the process (SIGTERM: the
  // state is saved, connections to the port are refused from now on);
  // start_again() starts it on the same port with the same token and data.
  struct Comeback {
    bool forget_history = false;  // every older resourceVersion gets 410
    bool new_tls = false;         // a new CA and serving certificate (DIR/ca.crt rewritten)
  };
  void stop();
  void start_again(Comeback how);
  void start_again() { start_again(Comeback{}); }
  // While stopped: `writes` run against a second server on another port
  // sharing the same state (another replica of an HA control plane, writing
  // to the same etcd while ours is down); what they write is there when this
  // one comes back.
  void write_through_peer(const std::function<void()>& writes);

  int port() const { return port_; }
  const std::string& url() const { return url_; }
  const std::string& dir() const { return dir_; }
  std::string ca_file() const { return dir_ + "/ca.crt"; }
  std::string token_file() const { return dir_ + "/token"; }

  // Creates or replaces (PUT) a kubernetes.io/tls Secret in `ns`; returns the HTTP status.
  long put_tls_secret(const std::string& ns, const std::string& name, const std::string& crt_pem,
                      const std::string& key_pem, const std::string& labels_json = "{}");
  long delete_secret(const std::string& ns, const std::string& name);
  long post_json(const std::string& path, const std::string& body) { return request("POST", path, body); }
  long put_json(const std::string& path, const std::string& body) { return request("PUT", path, body); }
  long delete_path(const std::string& path) { return request("DELETE", path, ""); }
  // GET `path` with the token; the parsed body (null when the request fails).
  nlohmann::json get_json(const std::string& path);

  // The /testing/ control endpoints (see tests/kube_api_server/README.md).
  nlohmann::json counters();
  void add_fault(const std::string& spec_json);
  void clear_faults();
  void rotate_token(const std::string& token);  // also rewrites token_file()
  void compact();                               // forget the watch history
  void close_watches();                         // end open watches normally
  std::string log() const;                      // the server's request log

 private:
  long request(const std::string& method, const std::string& path, const std::string& body,
               std::string* response_body = nullptr);
  void control(const std::string& path, const std::string& body);

  // Starts the binary with `args` after --dir `dir`, waits for DIR/server.
  pid_t spawn(const std::string& dir, const std::vector<std::string>& args);
  std::vector<std::string> base_args() const;

  Options options_;
  std::string dir_;
  std::string url_;
  std::string token_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace certsync::testing
