#include "util/wake_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "kube/config_files.h"  // errno_text

namespace certsync {

namespace {

constexpr int kBacklog = 64;

void close_fd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

}  // namespace

WakeServer::~WakeServer() { stop(); }

std::string WakeServer::start(const std::string& path) {
  if (listen_fd_ >= 0) return "";
  sockaddr_un address{};
  if (path.empty() || path.size() >= sizeof(address.sun_path))
    return "notify_socket \"" + path + "\" is empty or longer than " + std::to_string(sizeof(address.sun_path) - 1) +
           " bytes";
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return "notify_socket: socket(): " + kube::errno_text(errno);
  ::unlink(path.c_str());  // a file left by an earlier owner; a live one is replaced as well
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || ::listen(fd, kBacklog) != 0) {
    const std::string error = "notify_socket " + path + ": " + kube::errno_text(errno);
    ::close(fd);
    return error;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) listen_inode_ = static_cast<unsigned long>(st.st_ino);
  if (::pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    const std::string error = "notify_socket: pipe(): " + kube::errno_text(errno);
    ::close(fd);
    return error;
  }
  path_ = path;
  listen_fd_ = fd;
  thread_ = std::thread([this] { run(); });
  return "";
}

void WakeServer::stop() {
  if (listen_fd_ < 0) return;
  const char byte = 0;
  [[maybe_unused]] ssize_t written = ::write(stop_pipe_[1], &byte, 1);
  if (thread_.joinable()) thread_.join();
  // Only our own file: a newer owner may have bound the path since.
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && static_cast<unsigned long>(st.st_ino) == listen_inode_)
    ::unlink(path_.c_str());
  close_fd(&listen_fd_);
  close_fd(&stop_pipe_[0]);
  close_fd(&stop_pipe_[1]);
  std::lock_guard<std::mutex> lock(mutex_);
  for (int& client : clients_) close_fd(&client);
  clients_.clear();
}

void WakeServer::notify() {
  std::lock_guard<std::mutex> lock(mutex_);
  const char byte = 1;
  for (int& client : clients_) {
    // EAGAIN: the worker has not read the last bytes yet, so it will wake anyway.
    if (::send(client, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      close_fd(&client);
  }
  clients_.erase(std::remove(clients_.begin(), clients_.end(), -1), clients_.end());
}

size_t WakeServer::connections() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return clients_.size();
}

void WakeServer::run() {
  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({stop_pipe_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int client : clients_) fds.push_back({client, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents & POLLIN) {
      int client;
      while ((client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        clients_.push_back(client);
      }
    }
    // A worker never writes: readable or hung up means it went away.
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto it = std::find(clients_.begin(), clients_.end(), fds[i].fd);
      if (it == clients_.end()) continue;
      char buffer[64];
      const ssize_t n = ::recv(*it, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || (fds[i].revents & (POLLHUP | POLLERR))) {
        ::close(*it);
        clients_.erase(it);
      }
    }
  }
}

}  // namespace certsync
