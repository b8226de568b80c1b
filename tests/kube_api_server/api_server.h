// The HTTPS server: httplib's SSLServer with the project's routes, the
// one-thread-per-connection queue, request logging and Kubernetes-shaped
// errors for unknown paths.
//
// Lifecycle: bind() on the calling thread, run() blocks in the accept loop
// (call it on a thread of its own), stop() from any thread makes run()
// return once every connection has finished (watches end first because the
// caller shuts the store down before calling stop()).
#pragma once

#include <memory>

#include "server_context.h"
#include "tls_material.h"

namespace kube_test {

class ApiServer {
 public:
  ApiServer(ServerContext &ctx, const TlsMaterial &tls);
  ~ApiServer();
  ApiServer(const ApiServer &) = delete;
  ApiServer &operator=(const ApiServer &) = delete;

  // Binds 127.0.0.1:port (0: any free port). Returns the port, or -1.
  int bind(int port);
  bool run();
  void stop();

 private:
  class Listener;
  std::unique_ptr<Listener> server_;
  ServerContext &ctx_;
};

}  // namespace kube_test
