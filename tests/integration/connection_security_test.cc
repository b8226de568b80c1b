// What the connection to the API server never does: send the token to a
// host it was redirected to, or turn off verification without saying so on
// every start.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>

#include "watcher_fixture.h"

using namespace certsync::testing;

namespace {

constexpr char kToken[] = "redirect-test-token-0123456789abcdef";

// A plain HTTP server on 127.0.0.1 in its own thread that answers every
// request with respond(request head) and closes the connection. Enough for
// a client that sends one request per connection and no body.
class LocalServer {
 public:
  explicit LocalServer(std::function<std::string(const std::string&)> respond) : respond_(std::move(respond)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;
  ~LocalServer() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void serve() {
    while (!stopping_) {
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      std::string head;
      char buffer[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t got = read(client, buffer, sizeof buffer);
        if (got <= 0) break;
        head.append(buffer, static_cast<size_t>(got));
      }
      const std::string answer = respond_(head);
      (void)!write(client, answer.data(), answer.size());
      close(client);
    }
  }
  std::function<std::string(const std::string&)> respond_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// The request target of a request head: "GET /api/v1/... HTTP/1.1".
std::string target_of(const std::string& head) {
  const size_t from = head.find(' ') + 1;
  return head.substr(from, head.find(' ', from) - from);
}

std::string write_token_file() {
  char path[] = "/tmp/certsync-token-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, kToken, sizeof kToken - 1) == static_cast<ssize_t>(sizeof kToken - 1));
  close(fd);
  return path;
}

// Every log record queued so far, one per line.
std::string drain_log(certsync_t* cs) {
  std::string all;
  int level = 0;
  size_t len = 0;
  while (char* record = certsync_log_pop(cs, &level, &len)) {
    all.append(record, len);
    all += '\n';
    certsync_free(record);
  }
  return all;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool synced(certsync_t* cs) { return status(cs)["synced"] == true; }

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

}  // namespace

TEST_CASE("a redirect from the API server is not followed, so the token never reaches the other host",
          "[integration][security]") {
  std::atomic<int> redirected{0};
  std::atomic<int> elsewhere{0};
  std::atomic<bool> token_elsewhere{false};
  std::atomic<bool> token_at_api{false};

  LocalServer other([&](const std::string& head) {  // where the redirect points
    ++elsewhere;
    if (head.find("Authorization") != std::string::npos || head.find(kToken) != std::string::npos) {
      token_elsewhere = true;
    }
    const std::string body =
        R"({"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]})";
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  });
  // The configured API server: answers every request with a redirect there.
  LocalServer api([&](const std::string& head) {
    ++redirected;
    if (head.find(std::string("Bearer ") + kToken) != std::string::npos) token_at_api = true;
    return "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:" + std::to_string(other.port()) +
           target_of(head) + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  });

  const std::string token_file = write_token_file();
  auto cs = start_certsync({{"server", "http://127.0.0.1:" + std::to_string(api.port())},
                            {"token_file", token_file},
                            {"namespace", "default"}});
  // Two attempts: the first answer was a redirect, and the watcher tried again.
  REQUIRE(wait_until([&] { return redirected.load() >= 2; }, std::chrono::seconds(15)));
  certsync_stop(cs.get());

  CHECK(token_at_api.load());  // the token went where it was configured to go
  CHECK(elsewhere.load() == 0);
  CHECK_FALSE(token_elsewhere.load());
  const auto current = status(cs.get());
  INFO(current.dump());
  CHECK(current["synced"] == false);
  // The error says what the server answered.
  CHECK(watcher_status(cs.get())["last_error"].dump().find("307") != std::string::npos);
  std::remove(token_file.c_str());
}

TEST_CASE("insecure_skip_tls_verify is warned about on every start", "[integration][security]") {
  TestServerProcess server;
  auto settings = settings_for(server, {{"insecure_skip_tls_verify", "true"}});
  settings.erase("ca_file");
  auto cs = start_certsync(settings);
  REQUIRE(wait_until([&] { return synced(cs.get()); }));
  certsync_stop(cs.get());
  std::string log = drain_log(cs.get());
  CHECK(count_of(log, "insecure_skip_tls_verify is on") == 1);
  // The warning names the server, never the token.
  CHECK(log.find(server.url()) != std::string::npos);
  CHECK(log.find(read_file(server.token_file())) == std::string::npos);

  char* error = nullptr;
  REQUIRE(certsync_start(cs.get(), &error) == 0);
  REQUIRE(wait_until([&] { return synced(cs.get()); }));
  certsync_stop(cs.get());
  log = drain_log(cs.get());
  CHECK(count_of(log, "insecure_skip_tls_verify is on") == 1);

  SECTION("and not at all when verification is on") {
    auto verified = start_certsync(settings_for(server));
    REQUIRE(wait_until([&] { return synced(verified.get()); }));
    certsync_stop(verified.get());
    CHECK(drain_log(verified.get()).find("insecure_skip_tls_verify") == std::string::npos);
  }
}
