// libcertsync through its C ABI against the Kubernetes API test server:
// LIST, WATCH, validation and the store, end to end inside one process.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "watcher_fixture.h"

using namespace certsync::testing;

namespace {
Handle start_watcher(const TestServerProcess& server, const std::string& policy = "keep") {
  return start_certsync(settings_for(server, {{"deletion_policy", policy}}));
}
using Pair = PemPair;
}  // namespace

TEST_CASE("Secrets that exist before the watcher starts are listed and served", "[integration]") {
  TestServerProcess server;
  const Pair a = make_pair_for("a.example.test", 0);
  REQUIRE(server.put_tls_secret("default", "a-tls", a.crt, a.key) == 201);
  auto cs = start_watcher(server);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) >= 1; }));
  REQUIRE(served(cs.get()) == std::map<std::string, std::string>{{"default/a-tls", serial_of(a.crt)}});
  REQUIRE(watcher_status(cs.get())["state"] == "watching");
}

TEST_CASE("a replaced Secret becomes the next generation, carrying the new serial", "[integration]") {
  TestServerProcess server;
  auto cs = start_watcher(server);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 1; }));  // the empty first list
  const Pair a = make_pair_for("app.example.test", 0);
  const Pair b = make_pair_for("app.example.test", 1);
  REQUIRE(server.put_tls_secret("default", "app-tls", a.crt, a.key) == 201);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 2; }));
  REQUIRE(server.put_tls_secret("default", "app-tls", b.crt, b.key) == 200);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 3; }));
  REQUIRE(served(cs.get())["default/app-tls"] == serial_of(b.crt));

  char* err = nullptr;
  certsync_changes_t* delta = certsync_changes_since(cs.get(), 2, &err);
  REQUIRE(certsync_changes_full(delta) == 0);
  REQUIRE(certsync_changes_count(delta) == 1);
  certsync_bundle_t view;
  certsync_changes_get(delta, 0, &view);
  REQUIRE(std::string(view.snis, view.snis_len) == "app.example.test");
  REQUIRE(std::string(view.key_pem, view.key_pem_len).find("PRIVATE KEY") != std::string::npos);
  certsync_changes_free(delta);
}

TEST_CASE("a broken replacement is refused and the last good bundle keeps serving", "[integration]") {
  TestServerProcess server;
  const Pair a = make_pair_for("app.example.test", 0);
  const Pair other = make_pair_for("app.example.test", 1);
  REQUIRE(server.put_tls_secret("default", "app-tls", a.crt, a.key) == 201);
  auto cs = start_watcher(server);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 1; }));
  REQUIRE(server.put_tls_secret("default", "app-tls", other.crt, a.key) == 200);
  REQUIRE(wait_until([&] { return status(cs.get())["secrets"][0].contains("refusal"); }));
  const auto secret = status(cs.get())["secrets"][0];
  REQUIRE(secret["refusal"]["code"] == "key_mismatch");
  REQUIRE(secret["state"] == "refused");
  REQUIRE(secret["served"]["serial"] == serial_of(a.crt));  // the last good one, still served
  REQUIRE(secret["refusals"]["key_mismatch"] == 1);
  REQUIRE(secret["refusal"]["since"].get<int64_t>() > 0);
  REQUIRE(!secret["uid"].get<std::string>().empty());
  REQUIRE(secret["namespace"] == "default");
  REQUIRE(secret["name"] == "app-tls");
  REQUIRE(certsync_generation(cs.get()) == 1);
  REQUIRE(served(cs.get())["default/app-tls"] == serial_of(a.crt));
  REQUIRE(status(cs.get()).dump().find("PRIVATE KEY") == std::string::npos);
}

TEST_CASE("a metadata-only update is no new generation", "[integration]") {
  TestServerProcess server;
  const Pair a = make_pair_for("app.example.test", 0);
  REQUIRE(server.put_tls_secret("default", "app-tls", a.crt, a.key) == 201);
  auto cs = start_watcher(server);
  REQUIRE(wait_until([&] { return watcher_status(cs.get())["state"] == "watching"; }));
  REQUIRE(certsync_generation(cs.get()) == 1);
  const auto before = watcher_status(cs.get());
  REQUIRE(server.put_tls_secret("default", "app-tls", a.crt, a.key, R"({"touched":"yes"})") == 200);
  REQUIRE(wait_until([&] { return watcher_status(cs.get())["events"] > before["events"]; }));
  REQUIRE(watcher_status(cs.get())["validations"] == before["validations"]);
  REQUIRE(certsync_generation(cs.get()) == 1);
}

TEST_CASE("under the remove policy a deleted Secret stops being served", "[integration]") {
  TestServerProcess server;
  const Pair a = make_pair_for("app.example.test", 0);
  REQUIRE(server.put_tls_secret("default", "app-tls", a.crt, a.key) == 201);
  auto cs = start_watcher(server, "remove");
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 1; }));
  REQUIRE(server.delete_secret("default", "app-tls") == 200);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 2; }));
  REQUIRE(served(cs.get()).empty());
}

TEST_CASE("stop returns within a second when the server accepts and never answers", "[integration]") {
  // A listening socket nobody accepts on: the kernel completes the TCP
  // handshake, and the TLS handshake then waits forever.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd, 8) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto cs = start_certsync({{"server", "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port))},
                            {"insecure_skip_tls_verify", "true"},
                            {"namespace", "default"}});
  REQUIRE(wait_until([&] { return watcher_status(cs.get())["state"] == "listing"; }));
  const auto started = std::chrono::steady_clock::now();
  certsync_stop(cs.get());
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took < std::chrono::seconds(1));
  REQUIRE(watcher_status(cs.get())["state"] == "stopped");
  close(fd);
}

TEST_CASE("two handles with the same settings in one process share one watch", "[integration]") {
  TestServerProcess server;
  auto first = start_watcher(server);
  auto second = start_watcher(server);  // as nginx's stream Lua VM of the same worker would
  REQUIRE(wait_until([&] { return server.counters()["open_watches"] == 1; }));
  REQUIRE(server.counters()["watch"] == 1);
  const Pair a = make_pair_for("app.example.test", 0);
  REQUIRE(server.put_tls_secret("default", "app-tls", a.crt, a.key) == 201);
  REQUIRE(wait_until([&] { return served(second.get()).size() == 1; }));
  REQUIRE(served(first.get()) == served(second.get()));
  first.reset();  // one VM stops: the other keeps its watch
  REQUIRE(server.counters()["open_watches"] == 1);
  second.reset();
  REQUIRE(wait_until([&] { return server.counters()["open_watches"] == 0; }));
}

TEST_CASE("a stopped handle can be started again", "[integration]") {
  TestServerProcess server;
  auto cs = start_watcher(server);
  REQUIRE(wait_until([&] { return server.counters()["open_watches"] == 1; }));
  certsync_stop(cs.get());
  REQUIRE(wait_until([&] { return server.counters()["open_watches"] == 0; }));
  char* err = nullptr;
  REQUIRE(certsync_start(cs.get(), &err) == 0);
  REQUIRE(wait_until([&] { return server.counters()["open_watches"] == 1; }));
}
