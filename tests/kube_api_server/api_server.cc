#include "api_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>

#include "connection_threads.h"
#include "http_helpers.h"
#include "request_kind.h"
#include "routes.h"

namespace kube_test {

// SSLServer with access to its listening socket: httplib listens with a
// backlog of 5, too few when a test opens 16+ watches at once (the excess
// SYNs are dropped and retried a second later), so bind() raises it.
class ApiServer::Listener : public httplib::SSLServer {
 public:
  using httplib::SSLServer::SSLServer;
  int listening_socket() const { return svr_sock_; }
};

namespace {

// When the current request started, for the log line (each connection has
// its own thread, and a thread serves one request at a time).
thread_local std::chrono::steady_clock::time_point t_request_start;

void log_request(const httplib::Request &req, const httplib::Response &res) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t_request_start)
                      .count();
  // The target has the query string but never a header: no token in logs.
  std::fprintf(stderr, "[kube-api-test-server] %s %s -> %d (%lld ms)\n",
               req.method.c_str(), req.target.c_str(), res.status,
               static_cast<long long>(ms));
}

}  // namespace

ApiServer::ApiServer(ServerContext &ctx, const TlsMaterial &tls)
    : server_(std::make_unique<Listener>(tls.server_cert.get(),
                                         tls.server_key.get())),
      ctx_(ctx) {
  Listener &s = *server_;
  s.new_task_queue = [] { return new ConnectionThreads(); };
  // Long enough for a slow test machine, short enough that a client that
  // vanished mid-request does not hold a thread for long.
  s.set_read_timeout(30, 0);
  s.set_write_timeout(30, 0);
  // httplib closes a keep-alive connection after 5 requests by default; a
  // real API server does not, and clients should see long-lived connections.
  s.set_keep_alive_max_count(1000);
  // httplib writes a response's headers and body separately; with Nagle on,
  // the body then waits for the client's delayed ACK (40 ms on Linux), which
  // made every request take 40 ms. A real API server (Go) sets TCP_NODELAY.
  s.set_tcp_nodelay(true);
  // The real server's request body limit (3 MiB): larger bodies get 413.
  s.set_payload_max_length(3 * 1024 * 1024);

  s.set_pre_routing_handler([](const httplib::Request &req,
                               httplib::Response &) {
    t_request_start = std::chrono::steady_clock::now();
    ConnectionThreads::note_socket(request_socket(req));
    // The Request is owned by httplib's connection loop and is not const;
    // only the handler signature is.
    auto &mutable_req = const_cast<httplib::Request &>(req);
    if (!req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      // RFC 9112: no length and no chunking means no body. httplib 0.11
      // would instead read a POST until the client closes (e.g. `curl -X
      // POST` with no -d), so make the empty body explicit.
      mutable_req.set_header("Content-Length", "0");
    }
    if (is_watch_request(req)) {
      // httplib would gzip/brotli a chunked JSON response when the client
      // accepts it, buffering events inside the compressor: a watch must
      // deliver each event as it happens, so it is never compressed.
      mutable_req.headers.erase("Accept-Encoding");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  register_discovery_routes(s, ctx_);
  register_secret_routes(s, ctx_);
  register_certificate_routes(s, ctx_);
  register_testing_routes(s, ctx_);

  // httplib calls this for every status >= 400, ours included; only fill in
  // answers no handler wrote (no route matched). A body handed to a content
  // provider (a dripped error answer) counts as written.
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request &req, httplib::Response &res) {
    if (!res.body.empty() || res.content_provider_) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (req.path.rfind("/testing/", 0) != 0 && !ctx_.auth.accepts(req)) {
      ctx_.counters.count_unauthorized();
      send_error(req, res, unauthorized());
    } else {
      send_error(req, res, route_not_found());
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request &req,
                             httplib::Response &res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception &e) {
      what = e.what();
    } catch (...) {
    }
    send_error(req, res,
               ApiError{500, failure_status(500, "InternalError",
                                            "an error on the server (\"" +
                                                what +
                                                "\") has prevented the "
                                                "request from succeeding")});
  });
  s.set_logger(log_request);
}

ApiServer::~ApiServer() = default;

int ApiServer::bind(int port) {
  int bound = -1;
  if (port == 0) {
    bound = server_->bind_to_any_port("127.0.0.1");
  } else if (server_->bind_to_port("127.0.0.1", port)) {
    bound = port;
  }
  if (bound > 0 && server_->listening_socket() >= 0) {
    ::listen(server_->listening_socket(), 128);
  }
  return bound;
}

bool ApiServer::run() { return server_->listen_after_bind(); }

void ApiServer::stop() { server_->stop(); }

}  // namespace kube_test
