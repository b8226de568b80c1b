// WakeServer: every connected worker gets a byte on notify(); gone workers
// are dropped; the socket file belongs to whoever bound it last.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "config_test_dir.h"
#include "util/wake_server.h"

using certsync::WakeServer;
using certsync::test::ConfigTestDir;

namespace {

int connect_to(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether a byte arrives on fd within `ms`.
bool woken(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, ms) != 1) return false;
  char buffer[16];
  return ::recv(fd, buffer, sizeof(buffer), 0) > 0;
}

template <typename F>
bool eventually(F condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace

TEST_CASE("notify wakes every connected worker, and only when called", "[wake]") {
  ConfigTestDir dir;
  const std::string path = dir.path() + "/wake.sock";
  WakeServer server;
  REQUIRE(server.start(path).empty());
  int a = connect_to(path), b = connect_to(path);
  REQUIRE(a >= 0);
  REQUIRE(b >= 0);
  REQUIRE(eventually([&] { return server.connections() == 2; }));
  REQUIRE_FALSE(woken(a, 50));
  server.notify();
  REQUIRE(woken(a, 2000));
  REQUIRE(woken(b, 2000));
  ::close(a);
  REQUIRE(eventually([&] { return server.connections() == 1; }));
  server.notify();
  REQUIRE(woken(b, 2000));
  ::close(b);
  server.stop();
  REQUIRE_FALSE(exists(path));
}

TEST_CASE("a new owner takes the path over; the old one leaves the new file alone", "[wake]") {
  ConfigTestDir dir;
  const std::string path = dir.path() + "/wake.sock";
  WakeServer old_owner, new_owner;
  REQUIRE(old_owner.start(path).empty());
  REQUIRE(new_owner.start(path).empty());
  old_owner.stop();
  REQUIRE(exists(path));
  int fd = connect_to(path);
  REQUIRE(fd >= 0);
  REQUIRE(eventually([&] { return new_owner.connections() == 1; }));
  new_owner.notify();
  REQUIRE(woken(fd, 2000));
  ::close(fd);
}

TEST_CASE("a path too long for a Unix socket is refused with a message", "[wake]") {
  WakeServer server;
  const std::string error = server.start("/tmp/" + std::string(200, 'x'));
  REQUIRE(error.find("longer than 107 bytes") != std::string::npos);
}

TEST_CASE("stop closes the connections, and notify after stop is harmless", "[wake]") {
  ConfigTestDir dir;
  const std::string path = dir.path() + "/wake.sock";
  WakeServer server;
  REQUIRE(server.start(path).empty());
  int fd = connect_to(path);
  REQUIRE(eventually([&] { return server.connections() == 1; }));
  server.stop();
  char byte;
  REQUIRE(::recv(fd, &byte, 1, 0) == 0);  // end of stream: the worker reconnects
  server.notify();
  ::close(fd);
}
