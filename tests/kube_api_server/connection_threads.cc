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

void ConnectionThreads::enqueue(std::function<void()> fn) {
  std::list<Slot>::iterator slot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    slot = running_.emplace(running_.end());
  }
  std::thread([this, slot, fn = std::move(fn)]() mutable {
    {
      std::lock_guard<std::mutex> lock(mu_);
      t_socket_slot = &slot->fd;
    }
    fn();
    fn = nullptr;  // release captures before the queue may be destroyed
    std::lock_guard<std::mutex> lock(mu_);
    t_socket_slot = nullptr;
    running_.erase(slot);
    done_.notify_all();
  }).detach();
}

void ConnectionThreads::note_socket(int fd) {
  if (t_socket_slot != nullptr) *t_socket_slot = fd;
}

void ConnectionThreads::shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  // Grace period: watch streams write their final chunk and finish.
  done_.wait_for(lock, std::chrono::milliseconds(500),
                 [&] { return running_.empty(); });
  for (const Slot &s : running_) {
    if (s.fd >= 0) ::shutdown(s.fd, SHUT_RDWR);
  }
  done_.wait(lock, [&] { return running_.empty(); });
}

}  // namespace kube_test
