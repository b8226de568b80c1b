// The kube-api-test-server binary as a child process of a Catch2 test, and
// a libcurl client for it, for the conformance and fault tests.
//
// Each test case starts its own server (a fresh temp dir, a fixed token),
// waits for DIR/server with a deadline, and stops it (SIGTERM, then SIGKILL
// after 5 s) when the ServerUnderTest goes away, checking that it exited
// cleanly with no sanitizer report in its log. request() is thread-safe:
// a test may hold a watch open on one thread while it writes on another.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace kube_test_client {

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // with the query string
  std::string body;
  std::string content_type;          // sent when not empty
  std::vector<std::string> headers;  // extra "Name: value" lines
  // "": the server's token; "-": no Authorization header at all.
  std::string token;
  // Hand chunked bodies over as they came on the wire ("54c\r\n...").
  bool raw_chunks = false;
  long timeout_ms = 15000;
};

struct HttpResponse {
  long status = 0;       // 0: no status line arrived
  std::string protocol;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;
  // Every piece libcurl handed over, with when it came (since the request
  // started): what a client reading the stream sees.
  std::vector<std::pair<std::chrono::milliseconds, size_t>> pieces;
  std::chrono::milliseconds elapsed{0};
  int curl_code = 0;  // CURLcode; 28 = timed out
  std::string curl_error;

  // The first value of a header (name in any case), or "".
  std::string header(const std::string &name) const;
  bool has_header(const std::string &name) const;
};

class ServerUnderTest {
 public:
  // Starts the server with these extra arguments; FAILs the test when it
  // does not come up within 10 s.
  explicit ServerUnderTest(std::vector<std::string> extra_args = {});
  ~ServerUnderTest();
  ServerUnderTest(const ServerUnderTest &) = delete;
  ServerUnderTest &operator=(const ServerUnderTest &) = delete;

  HttpResponse request(const HttpRequest &req) const;
  HttpResponse get(const std::string &path) const;
  HttpResponse send_json(const std::string &method, const std::string &path,
                         const nlohmann::json &body) const;
  // A /testing/ call whose answer must be 2xx; returns its JSON.
  nlohmann::json control(const std::string &method, const std::string &path,
                         const std::string &body = "") const;
  // Polls /testing/counters until `open_watches` reaches `n` (5 s deadline).
  bool wait_for_open_watches(long n) const;

  // SIGTERM and wait (up to `deadline`): the exit status, or -1 when the
  // server had to be killed or died of a signal. Once only; later calls
  // return the same status.
  int stop(std::chrono::milliseconds deadline = std::chrono::seconds(5));

  const std::string &url() const { return url_; }
  const std::string &token() const { return token_; }
  // The server's stderr so far (its request log), for failure messages.
  std::string log() const;

 private:
  std::string work_dir_;  // removed on destruction
  std::string dir_;       // the server's --dir
  std::string url_;
  std::string token_;
  pid_t pid_ = -1;
  int exit_status_ = -1;  // once stopped
};

// A chunked body as it came on the wire, split into its chunks.
struct Chunks {
  std::vector<std::string> payloads;  // without the final empty chunk
  bool terminated = false;            // the "0\r\n\r\n" chunk came
  std::string error;                  // malformed framing, or ""
};
Chunks split_chunks(const std::string &raw);

// The JSON documents of a watch body, one per "\n"-terminated line; a line
// that is not JSON is returned as a string value holding the line.
std::vector<nlohmann::json> watch_events(const std::string &body);

}  // namespace kube_test_client
