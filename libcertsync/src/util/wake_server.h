// WakeServer: wakes the nginx workers of a node the moment something changed,
// so they need not wait for their next poll (design.md, invariant 4: the
// library may wake Lua; the pull stays Lua's).
//
// It listens on a Unix stream socket. Each worker keeps one connection open
// and waits on it with a cosocket read, which costs its event loop nothing
// while idle. notify() writes one byte to every connection; a worker that
// wakes reads whatever bytes are there and pulls the changes. Nothing else
// crosses the socket: a byte carries no data, so a worker that misses one
// (its connection was being re-opened) still converges at its next poll.
//
// The listening thread only accepts and notices closed connections;
// notify() may be called from any thread and never blocks (a connection
// whose buffer is full already has a byte waiting).
#pragma once

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace certsync {

class WakeServer {
 public:
  WakeServer() = default;
  ~WakeServer();
  WakeServer(const WakeServer&) = delete;
  WakeServer& operator=(const WakeServer&) = delete;

  // Listens at `path`, replacing a socket file left there (by a worker that
  // owned the watcher before). Returns an error message, or "" on success.
  std::string start(const std::string& path);
  // Closes every connection and the listener, and removes the socket file if
  // it is still this server's. Idempotent.
  void stop();
  void notify();
  size_t connections() const;

 private:
  void run();

  std::string path_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  unsigned long listen_inode_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;  // guards clients_
  std::vector<int> clients_;
};

}  // namespace certsync
