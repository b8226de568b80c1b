// How httplib runs connections: one thread per connection.
//
// httplib hands every accepted connection to a TaskQueue; its default pool
// has max(8, cores - 1) threads, and a watch holds its thread for minutes, so
// a handful of open watches would starve every other request. Here each
// connection gets its own thread, so any number of watches can be open.
//
// Shutdown: httplib calls shutdown() after its accept loop ends and waits for
// it. Watches end on their own (the store wakes them), but an idle
// keep-alive connection would sit out its 5 s timeout; so after a short grace
// period the sockets of still-running connections are shut down, which makes
// their threads finish at once. Threads are joined, never detached: a thread
// still unwinding (thread-local destructors, OpenSSL's per-thread state) must
// not race with the process exit.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace kube_test {

class ConnectionThreads : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

  // Called from a request handler: remembers the socket of the connection
  // this thread serves, for shutdown(). No-op off a connection thread.
  static void note_socket(int fd);

 private:
  struct Connection {
    std::thread thread;
    std::atomic<int> fd{-1};  // written by its thread, read by shutdown()
    bool finished = false;    // guarded by mu_
  };
  // Joins the threads of finished connections. Caller holds mu_.
  void reap_finished();

  std::mutex mu_;
  std::condition_variable finished_;
  std::list<Connection> connections_;
};

}  // namespace kube_test
