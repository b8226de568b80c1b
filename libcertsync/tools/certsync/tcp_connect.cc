#include "tcp_connect.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace certsync::cli {

namespace {

// Waits for a non-blocking connect() to finish; 0 or an errno value.
int finish_connect(int fd, int timeout_ms) {
  pollfd entry{fd, POLLOUT, 0};
  int ready;
  do {
    ready = poll(&entry, 1, timeout_ms);
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) return ETIMEDOUT;
  if (ready < 0) return errno;
  int err = 0;
  socklen_t size = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size) != 0) return errno;
  return err;
}

}  // namespace

int tcp_connect(const std::string& host, const std::string& port, int timeout_ms, std::string* error) {
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  if (const int rc = getaddrinfo(bare.c_str(), port.c_str(), &hints, &addresses); rc != 0) {
    *error = "cannot resolve " + bare + ": " + gai_strerror(rc);
    return -1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int last_error = ETIMEDOUT;
  int connected = -1;
  for (addrinfo* a = addresses; a != nullptr && connected < 0; a = a->ai_next) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    int err = connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) err = finish_connect(fd, static_cast<int>(left.count()));
    if (err != 0) {
      last_error = err;
      close(fd);
      continue;
    }
    connected = fd;
  }
  freeaddrinfo(addresses);
  if (connected < 0) {
    *error = last_error == ETIMEDOUT ? std::string("timed out") : std::string(std::strerror(last_error));
    return -1;
  }
  // Blocking from here on, for OpenSSL, with the same deadline per read and write.
  fcntl(connected, F_SETFL, fcntl(connected, F_GETFL) & ~O_NONBLOCK);
  timeval limit{timeout_ms / 1000, static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
  setsockopt(connected, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  setsockopt(connected, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  return connected;
}

}  // namespace certsync::cli
