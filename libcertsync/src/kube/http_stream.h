// HttpStream: one HTTPS request at a time to the API server, on libcurl's
// multi interface so that another thread can interrupt it at once.
//
// The watcher thread calls get(); it returns when the response ends, fails,
// times out, or interrupt() is called from any thread (curl_multi_wakeup), so
// stopping never waits for the network. Body bytes are handed to a callback
// as they arrive (a WATCH response never ends on its own).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "kube/connection_config.h"
#include "util/secret_bytes.h"

namespace certsync::kube {

struct HttpRequest {
  const ConnectionConfig* connection = nullptr;  // server, trust, client certificate
  std::string path_and_query;     // appended to connection->server
  SecretBytes bearer_token;       // empty: no Authorization header
  long connect_timeout_ms = 10000;
  long total_timeout_ms = 0;      // 0: none (a watch is bounded by its idle deadline instead)
  long idle_timeout_s = 0;        // abort when no byte arrived for this long; 0: none
  // Called with the status once the response headers are complete: a watch
  // answers 200 at once but may send no byte of body for a minute.
  std::function<void(long status)> on_headers;
};

struct HttpResponse {
  long status = 0;                // 0 when no HTTP response arrived
  std::string transport_error;    // curl's message when the transfer failed
  bool timed_out = false;         // the idle or the total deadline ended it (transport_error says which)
  bool interrupted = false;       // interrupt() ended it
  bool aborted_by_callback = false;
  std::map<std::string, std::string> headers;  // lowercased names; last value wins
};

class HttpStream {
 public:
  HttpStream();
  ~HttpStream();
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  // Runs one GET. on_body gets the HTTP status and each piece of the body as
  // it arrives; it returns false to abort the transfer (e.g. a framing error).
  // Only one get() at a time per HttpStream.
  using BodyHandler = std::function<bool(long status, std::string_view bytes)>;
  HttpResponse get(const HttpRequest& request, const BodyHandler& on_body);

  // Thread-safe. Makes the running get() (and every later one) return
  // promptly with interrupted = true.
  void interrupt();
  // Undoes interrupt() for the get() calls that follow. Not while one runs.
  void resume() { interrupted_.store(false); }
  // Response body bytes received by every get() so far, as they arrive
  // (error bodies too; headers not). Thread-safe: status reads it while a
  // watch runs.
  uint64_t body_bytes_received() const { return body_bytes_.load(std::memory_order_relaxed); }

 private:
  void* multi_;  // CURLM*, opaque here to keep curl out of the header
  std::atomic<bool> interrupted_{false};
  std::atomic<uint64_t> body_bytes_{0};
};

}  // namespace certsync::kube
