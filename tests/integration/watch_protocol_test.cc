// The watcher against the API test server, one behaviour of the Kubernetes
// watch contract per test (client-go's reflector is the reference).
#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <fstream>
#include <regex>
#include <thread>

#include "../unit/tls_test_certs.h"
#include "watcher_fixture.h"

using namespace certsync::testing;
using namespace std::chrono_literals;

namespace {

void create_secrets(TestServerProcess& server, const std::string& ns, int count, int key_slot = 0) {
  for (int i = 0; i < count; ++i) {
    const auto pair = make_pair_for("s" + std::to_string(i) + ".example.test", key_slot);
    REQUIRE(server.put_tls_secret(ns, "s" + std::to_string(i), pair.crt, pair.key) == 201);
  }
}

long counter(TestServerProcess& server, const char* kind) { return server.counters()[kind].get<long>(); }

bool watching(certsync_t* cs) { return watcher_status(cs)["state"] == "watching"; }

long rv_of(certsync_t* cs) { return std::stol(watcher_status(cs)["resource_version"].get<std::string>()); }

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

}  // namespace

// 1. LIST with limit/continue; WATCH from the list's resourceVersion.
TEST_CASE("a list is read in pages and the watch starts from the list's resourceVersion", "[protocol]") {
  TestServerProcess server;
  create_secrets(server, "default", 5);
  auto cs = start_certsync(settings_for(server, {{"list_page_size", "2"}}));
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) >= 1 && watching(cs.get()); }));
  REQUIRE(served(cs.get()).size() == 5);
  REQUIRE(counter(server, "list") == 3);
  // Had the watch started from an item's (older) resourceVersion, the server
  // would replay events before this one.
  create_secrets(server, "default", 0);
  const auto extra = make_pair_for("late.example.test", 1);
  REQUIRE(server.put_tls_secret("default", "late", extra.crt, extra.key) == 201);
  REQUIRE(wait_until([&] { return served(cs.get()).size() == 6; }));
  REQUIRE(watcher_status(cs.get())["events"] == 1);
}

TEST_CASE("an expired continue token restarts the list from the beginning", "[protocol]") {
  TestServerProcess server;
  create_secrets(server, "default", 5);
  // The first page passes; the second answers 410 as for a compacted token.
  server.add_fault(R"([{"verbs":["list"],"stall_ms":1,"count":1},{"verbs":["list"],"status":410,"count":1}])");
  auto cs = start_certsync(settings_for(server, {{"list_page_size", "2"}}));
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) >= 1; }, 15s));
  REQUIRE(served(cs.get()).size() == 5);
  REQUIRE(counter(server, "list") == 2 + 3);
}

// 2. Bookmarks.
TEST_CASE("bookmarks advance the resourceVersion and change nothing else", "[protocol]") {
  TestServerProcess::Options options;
  options.bookmark_interval_ms = 200;
  TestServerProcess server(options);
  create_secrets(server, "default", 1);
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watching(cs.get()); }));
  const long listed_at = rv_of(cs.get());
  const auto before = watcher_status(cs.get());
  const uint64_t generation = certsync_generation(cs.get());
  create_secrets(server, "elsewhere", 1);  // moves the server's resourceVersion, outside our scope
  REQUIRE(wait_until([&] { return rv_of(cs.get()) == listed_at + 1; }));
  REQUIRE(certsync_generation(cs.get()) == generation);
  REQUIRE(watcher_status(cs.get())["validations"] == before["validations"]);
  // The watch asked for bookmarks, with a timeout randomised in [300, 600)
  // (the server logs a request when it ends).
  server.close_watches();
  std::smatch match;
  const std::regex watch_line("watch=true[^ ]*allowWatchBookmarks=true[^ ]*timeoutSeconds=(\\d+)");
  std::string log;
  REQUIRE(wait_until([&] { return std::regex_search(log = server.log(), match, watch_line); }));
  const int timeout = std::stoi(match[1]);
  REQUIRE(timeout >= 300);
  REQUIRE(timeout < 600);
}

// 4. 410 in both forms leads to a relist; the relist replaces the store atomically.
TEST_CASE("HTTP 410 on a watch leads to a relist", "[protocol]") {
  TestServerProcess server;
  create_secrets(server, "default", 1);
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watching(cs.get()); }));
  const long lists = counter(server, "list");
  server.add_fault(R"({"verbs":["watch"],"status":410,"count":1})");
  server.close_watches();
  REQUIRE(wait_until([&] { return counter(server, "list") == lists + 1 && watching(cs.get()); }));
  const auto status = watcher_status(cs.get());
  REQUIRE(status["relists"] == 1);
  REQUIRE(status["errors"]["410"] == 1);
}

TEST_CASE("a 410 ERROR event leads to a relist that drops what vanished meanwhile", "[protocol]") {
  TestServerProcess server;
  create_secrets(server, "default", 2);
  auto cs = start_certsync(settings_for(server, {{"deletion_policy", "remove"}}));
  REQUIRE(wait_until([&] { return watching(cs.get()) && served(cs.get()).size() == 2; }));
  const long lists = counter(server, "list");
  // Take the watch down, delete a Secret while it is down, and forget the history.
  server.add_fault(R"({"verbs":["watch"],"status":500,"count":-1})");
  server.close_watches();
  REQUIRE(wait_until([&] { return watcher_status(cs.get())["state"] == "backoff"; }));
  REQUIRE(server.delete_secret("default", "s1") == 200);
  server.compact();
  server.clear_faults();
  // The next watch, from the old resourceVersion, gets 200 + ERROR 410.
  REQUIRE(wait_until([&] { return counter(server, "list") == lists + 1 && watching(cs.get()); }, 15s));
  REQUIRE(served(cs.get()) == std::map<std::string, std::string>{
                                  {"default/s0", served(cs.get())["default/s0"]}});
}

// 5. A watch the server ends is resumed; one closed at once backs off.
TEST_CASE("a watch the server ends normally is resumed without a relist", "[protocol]") {
  TestServerProcess server;
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  const long lists = counter(server, "list");
  const long watches = counter(server, "watch");
  server.close_watches();
  REQUIRE(wait_until([&] { return counter(server, "watch") == watches + 1 && counter(server, "open_watches") == 1; }));
  REQUIRE(counter(server, "list") == lists);
}

TEST_CASE("watches closed at once with no events are retried with backoff, not in a loop", "[protocol]") {
  TestServerProcess server;
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  const long watches = counter(server, "watch");
  // For three seconds, end every watch as soon as it opens.
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    server.close_watches();
    std::this_thread::sleep_for(20ms);
  }
  // Backoff (0.8 s, 1.6 s, ... each up to twice that) allows a handful; a tight loop would be hundreds.
  REQUIRE(counter(server, "watch") - watches <= 5);
}

// 6. Backoff, Retry-After, 429 and 504.
TEST_CASE("failing watches back off from 0.8 s, doubling", "[protocol]") {
  TestServerProcess server;
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  server.add_fault(R"({"verbs":["watch"],"status":500,"count":-1})");
  const long watches = counter(server, "watch");
  server.close_watches();
  // Attempts at 0, then >= 0.8 s, then >= 1.6 s later: at most 3 in 2.3 s.
  REQUIRE(wait_until([&] { return counter(server, "watch") >= watches + 2; }, 5s));
  std::this_thread::sleep_for(2300ms);
  REQUIRE(counter(server, "watch") - watches <= 4);
  REQUIRE(watcher_status(cs.get())["last_error"]["message"].get<std::string>().find("HTTP 500") != std::string::npos);
}

TEST_CASE("429 with Retry-After is honoured and never causes a relist", "[protocol]") {
  TestServerProcess server;
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  const long lists = counter(server, "list");
  const long watches = counter(server, "watch");
  server.add_fault(R"({"verbs":["watch"],"status":429,"retry_after":3,"count":1})");
  const auto started = std::chrono::steady_clock::now();
  server.close_watches();
  REQUIRE(wait_until([&] { return counter(server, "watch") == watches + 1; }));
  // The status says when the next attempt comes, and that the watch is down.
  REQUIRE(wait_until([&] { return watcher_status(cs.get())["state"] == "backoff"; }));
  const auto backing_off = watcher_status(cs.get());
  REQUIRE(backing_off["backoff_until"].get<int64_t>() >= static_cast<int64_t>(std::time(nullptr)) + 2);
  REQUIRE(backing_off["up"] == false);
  REQUIRE(backing_off["down_since"].get<int64_t>() > 0);
  REQUIRE(backing_off["errors"]["429"] == 1);
  REQUIRE(wait_until([&] { return counter(server, "watch") == watches + 2 && watching(cs.get()); }, 10s));
  REQUIRE(std::chrono::steady_clock::now() - started >= 2900ms);
  REQUIRE(counter(server, "list") == lists);
  // Up again as soon as the new watch is answered, before any event.
  REQUIRE(wait_until([&] { return watcher_status(cs.get())["up"] == true; }));
  REQUIRE(watcher_status(cs.get())["relists"] == 0);
}

// 7. Credentials: 401, token rotation, 403, CA rotation.
TEST_CASE("after a 401 the token file is read again and the watch recovers", "[protocol]") {
  TestServerProcess server;
  const std::string token_file = server.ca_file() + ".token-copy";
  write_file(token_file, read_file(server.token_file()));
  auto cs = start_certsync(settings_for(server, {{"token_file", token_file}}));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  const long unauthorized = counter(server, "unauthorized");
  server.rotate_token("rotated-token");
  server.close_watches();
  // The old token is refused, once at once and then after backing off...
  REQUIRE(wait_until([&] { return counter(server, "unauthorized") >= unauthorized + 2; }));
  REQUIRE(watcher_status(cs.get())["last_error"]["message"].get<std::string>().find("401") != std::string::npos);
  // ...until the file holds the new one (as the kubelet rotates projected tokens).
  write_file(token_file, "rotated-token\n");
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }, 15s));
  REQUIRE(status(cs.get()).dump().find("rotated-token") == std::string::npos);
}

TEST_CASE("403 is reported naming the verb, the resource and the namespace RBAC lacks", "[protocol]") {
  TestServerProcess server;
  server.add_fault(R"({"verbs":["list"],"status":403,"count":-1})");
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watcher_status(cs.get()).contains("last_error"); }));
  const std::string message = watcher_status(cs.get())["last_error"]["message"];
  REQUIRE(message.find("HTTP 403 Forbidden") != std::string::npos);
  REQUIRE(message.find("needs \"list\" on \"secrets\" in namespace \"default\"") != std::string::npos);
  REQUIRE(certsync_generation(cs.get()) == 0);
}

TEST_CASE("the CA file is read again when it changes", "[protocol]") {
  TestServerProcess server;
  CertSpec spec;
  spec.common_name = "some other CA";
  spec.ca = true;
  const std::string ca_copy = server.ca_file() + ".copy";
  write_file(ca_copy, TestCert::issue(spec, TestKey::shared(KeyKind::kEcP256, 3)).pem());
  auto cs = start_certsync(settings_for(server, {{"ca_file", ca_copy}}));
  REQUIRE(wait_until([&] { return watcher_status(cs.get()).contains("last_error"); }));
  REQUIRE(certsync_generation(cs.get()) == 0);
  write_file(ca_copy, read_file(server.ca_file()));
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 1; }, 15s));
}

// 8. Dead connections.
TEST_CASE("a watch that goes silent is dropped at the idle deadline and reopened", "[protocol]") {
  TestServerProcess server;
  auto cs = start_certsync(settings_for(server, {{"idle_timeout_seconds", "2"}}));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  const long watches = counter(server, "watch");
  server.add_fault(R"({"verbs":["watch"],"stall_ms":600000,"count":1})");
  server.close_watches();
  REQUIRE(wait_until([&] { return counter(server, "watch") == watches + 1; }));
  // No byte for 2 s: the watcher gives up on that connection and opens another.
  REQUIRE(wait_until([&] { return counter(server, "watch") >= watches + 2; }, 10s));
  REQUIRE(watcher_status(cs.get())["last_error"]["message"].get<std::string>().find("watch secrets") !=
          std::string::npos);
}

TEST_CASE("a watch that answered and then stays quiet is reopened at the idle deadline without an error",
          "[protocol]") {
  TestServerProcess::Options no_bookmarks;  // as on a cluster without etcd's progress notify
  no_bookmarks.bookmark_interval_ms = 3600000;
  TestServerProcess server(no_bookmarks);
  auto cs = start_certsync(settings_for(server, {{"idle_timeout_seconds", "2"}}));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  const long watches = counter(server, "watch");
  const long lists = counter(server, "list");
  // Two idle deadlines pass: each quiet watch is replaced by the next at once.
  REQUIRE(wait_until([&] { return counter(server, "watch") >= watches + 2; }, 10s));
  const nlohmann::json status = watcher_status(cs.get());
  CHECK(status["errors"].empty());
  CHECK(status["up"] == true);
  CHECK(counter(server, "list") == lists);
}

// 10. Stopping never waits on the server.
TEST_CASE("stop returns within a second while a watch is stalled", "[protocol]") {
  TestServerProcess server;
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  server.add_fault(R"({"verbs":["watch"],"stall_ms":600000,"count":1})");
  const long watches = counter(server, "watch");
  server.close_watches();
  REQUIRE(wait_until([&] { return counter(server, "watch") == watches + 1; }));
  const auto started = std::chrono::steady_clock::now();
  certsync_stop(cs.get());
  REQUIRE(std::chrono::steady_clock::now() - started < 1s);
}

// 3. Framing on the wire: tiny chunks, oversize events, unknown event types.
TEST_CASE("events dripped a few bytes at a time decode the same", "[protocol]") {
  TestServerProcess server;
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  server.add_fault(R"({"verb":"watch","drip_bytes":7,"drip_interval_ms":1,"count":-1})");
  server.close_watches();
  REQUIRE(wait_until([&] { return counter(server, "open_watches") == 1 && counter(server, "watch") == 2; }));
  const auto pair = make_pair_for("drip.example.test", 0);
  REQUIRE(server.put_tls_secret("default", "drip", pair.crt, pair.key) == 201);
  REQUIRE(wait_until([&] { return served(cs.get()).size() == 1; }, 20s));
  REQUIRE(served(cs.get())["default/drip"] == serial_of(pair.crt));
}

TEST_CASE("an event over the size cap drops the stream with an error, and watching resumes", "[protocol]") {
  TestServerProcess server;
  create_secrets(server, "default", 1);
  auto cs = start_certsync(settings_for(server, {{"max_event_bytes", "65536"}}));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  const long watches = counter(server, "watch");
  server.add_fault(R"({"oversize_event_bytes":200000,"count":1})");
  server.close_watches();
  REQUIRE(wait_until([&] {
    const auto w = watcher_status(cs.get());
    return w.contains("last_error") &&
           w["last_error"]["message"].get<std::string>().find("exceeds 65536 bytes") != std::string::npos;
  }));
  REQUIRE(wait_until([&] { return counter(server, "watch") >= watches + 2 && watching(cs.get()); }, 10s));
  REQUIRE(served(cs.get()).size() == 1);
}

TEST_CASE("an unknown event type is an error and the stream is re-established", "[protocol]") {
  TestServerProcess server;
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  const long watches = counter(server, "watch");
  server.add_fault(R"({"unknown_event_type":"WEIRD","count":1})");
  server.close_watches();
  REQUIRE(wait_until([&] {
    const auto w = watcher_status(cs.get());
    return w.contains("last_error") &&
           w["last_error"]["message"].get<std::string>().find("unknown event type \"WEIRD\"") != std::string::npos;
  }));
  REQUIRE(wait_until([&] { return counter(server, "watch") >= watches + 2 && watching(cs.get()); }, 10s));
}

TEST_CASE("504 ResourceVersionTooLarge on a watch leads to a fresh list", "[protocol]") {
  TestServerProcess server;
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  const long lists = counter(server, "list");
  server.add_fault(R"({"verbs":["watch"],"status":504,"count":1})");
  server.close_watches();
  REQUIRE(wait_until([&] { return counter(server, "list") == lists + 1 && watching(cs.get()); }));
}

TEST_CASE("a watch cut in the middle of an event is resumed and nothing half-read is applied", "[protocol]") {
  TestServerProcess server;
  create_secrets(server, "default", 1);
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return watching(cs.get()) && counter(server, "open_watches") == 1; }));
  const uint64_t generation = certsync_generation(cs.get());
  server.add_fault(R"({"drop_after_events":0,"count":1})");
  server.close_watches();
  const auto pair = make_pair_for("after.example.test", 1);
  REQUIRE(server.put_tls_secret("default", "after", pair.crt, pair.key) == 201);
  REQUIRE(wait_until([&] { return served(cs.get()).size() == 2; }, 10s));
  REQUIRE(certsync_generation(cs.get()) == generation + 1);
}
