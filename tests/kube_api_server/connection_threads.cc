#include "connection_threads.h"

#include <sys/socket.h>

#include <chrono>
#include <thread>

namespace kube_test {
namespace {

// The slot of the connection the current thread serves. Each connection has
// its own thread, so a thread_local identifies it.
thread_local std::atomic<int> *t_socket_slot = nullptr;

}  // namespace

void ConnectionThreads::reap_finished() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->finished) {
      // Past its last use of mu_: joining under the lock cannot deadlock.
      it->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void ConnectionThreads::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  reap_finished();
  auto conn = connections_.emplace(connections_.end());
  conn->thread = std::thread([this, conn, fn = std::move(fn)]() mutable {
    t_socket_slot = &conn->fd;
    fn();
    fn = nullptr;
    t_socket_slot = nullptr;
    std::lock_guard<std::mutex> done(mu_);
    conn->finished = true;
    finished_.notify_all();
  });
}

void ConnectionThreads::note_socket(int fd) {
  if (t_socket_slot != nullptr) *t_socket_slot = fd;
}

void ConnectionThreads::shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  auto all_finished = [&] {
    for (const Connection &c : connections_) {
      if (!c.finished) return false;
    }
    return true;
  };
  // Grace period: watch streams write their final chunk and finish.
  finished_.wait_for(lock, std::chrono::milliseconds(500), all_finished);
  for (const Connection &c : connections_) {
    if (!c.finished && c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);
  }
  finished_.wait(lock, all_finished);
  reap_finished();
}

}  // namespace kube_test
