// certsync watch: the library's watcher through its C ABI, one line per decision.
#include <catch2/catch.hpp>

#include <signal.h>

#include <sstream>

#include "cli_fixture.h"
#include "cli_process.h"

using namespace certsync::testing;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The JSON events printed so far, one per line.
std::vector<nlohmann::json> events(const std::string& out) {
  std::vector<nlohmann::json> parsed;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    auto event = nlohmann::json::parse(line, nullptr, false);
    INFO("line: " << line);
    REQUIRE(event.is_object());
    parsed.push_back(std::move(event));
  }
  return parsed;
}

bool has_event(const std::string& out, const std::string& type, const std::string& secret) {
  for (const auto& event : events(out))
    if (event.value("event", "") == type && event.value("secret", "") == secret) return true;
  return false;
}

}  // namespace

TEST_CASE("watch: an accepted change then a refusal for a broken update and SIGINT exits 0") {
  TestServerProcess server;
  TempDir dir;
  BackgroundProcess watch(dir.path(), "watch",
                          {CERTSYNC_CLI_PATH, "watch", "--kubeconfig", kubeconfig_of(server), "-n", "default"});
  REQUIRE(watch.wait_for_out([](const std::string& out) { return has(out, "synced"); }));

  const PemPair good = make_pair({"web.example.com"});
  REQUIRE(server.put_tls_secret("default", "web", good.cert, good.key) / 100 == 2);
  INFO(watch.out() << watch.err());
  REQUIRE(watch.wait_for_out([](const std::string& out) { return has(out, "accepted  default/web  serial"); }));

  const PemPair other = make_pair({"web.example.com"});
  REQUIRE(server.put_tls_secret("default", "web", good.cert, other.key) / 100 == 2);
  REQUIRE(watch.wait_for_out([](const std::string& out) { return has(out, "refused   default/web  key_mismatch"); }));
  CHECK(has(watch.out(), "the last good certificate keeps serving"));

  // Only what happened: the refusal is told once, and nothing else was accepted.
  watch.signal(SIGINT);
  const auto code = watch.wait_exit(std::chrono::seconds(5));
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  const std::string out = watch.out();
  CHECK(out.find("refused   default/web") == out.rfind("refused   default/web"));
  CHECK(out.find("accepted  default/web") == out.rfind("accepted  default/web"));
  require_no_secret(out + watch.err(), good.key);
  require_no_secret(out + watch.err(), other.key);
}

TEST_CASE("watch --json: one JSON event per line with the Secrets present at start and a label selector") {
  TestServerProcess server;
  TempDir dir;
  const PemPair first = make_pair({"a.example.com"});
  const PemPair unlabelled = make_pair({"b.example.com"});
  REQUIRE(server.put_tls_secret("default", "a", first.cert, first.key, R"({"app":"web"})") / 100 == 2);
  REQUIRE(server.put_tls_secret("default", "b", unlabelled.cert, unlabelled.key) / 100 == 2);
  BackgroundProcess watch(dir.path(), "watch",
                          {CERTSYNC_CLI_PATH, "watch", "--kubeconfig", kubeconfig_of(server), "-A", "-l", "app=web",
                           "--json"});
  REQUIRE(watch.wait_for_out([](const std::string& out) { return has_event(out, "serving", "default/a"); }));

  const PemPair renewed = make_pair({"a.example.com"});
  REQUIRE(server.put_tls_secret("default", "a", renewed.cert, renewed.key, R"({"app":"web"})") / 100 == 2);
  REQUIRE(watch.wait_for_out([](const std::string& out) { return has_event(out, "accepted", "default/a"); }));
  REQUIRE(server.delete_secret("default", "a") / 100 == 2);
  REQUIRE(watch.wait_for_out([](const std::string& out) { return has_event(out, "deleted", "default/a"); }));

  watch.signal(SIGTERM);
  const auto code = watch.wait_exit(std::chrono::seconds(5));
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  const auto all = events(watch.out());
  REQUIRE(!all.empty());
  CHECK(all.front()["event"] == "synced");
  for (const auto& event : all) {
    CHECK(event.contains("time"));
    CHECK(event.value("secret", "") != "default/b");  // not selected by app=web
    if (event["event"] == "accepted") {
      CHECK(event["snis"] == nlohmann::json({"a.example.com"}));
      CHECK(event["fingerprint_sha256"].get<std::string>().size() == 64);
    }
  }
  require_no_secret(watch.out() + watch.err(), first.key);
  require_no_secret(watch.out() + watch.err(), renewed.key);
}

TEST_CASE("watch: never synced (API server down) exits 4 on SIGTERM - bad flags exit 2 - exec users 6") {
  TestServerProcess server;
  TempDir dir;
  ClosedPort closed;
  const std::string moved = kubeconfig_with_server(server, dir, "https://127.0.0.1:" + std::to_string(closed.port()));
  BackgroundProcess watch(dir.path(), "watch", {CERTSYNC_CLI_PATH, "watch", "--kubeconfig", moved});
  // The watcher's first failure is reported as it happens (stderr for humans).
  const bool reported = wait_until([&] { return has(watch.err(), "error") && has(watch.err(), "list secrets"); },
                                   std::chrono::seconds(20));
  INFO(watch.err());
  CHECK(reported);
  watch.signal(SIGTERM);
  const auto code = watch.wait_exit(std::chrono::seconds(5));
  REQUIRE(code.has_value());
  CHECK(*code == 4);

  CHECK(run_cli({"watch", "--kubeconfig", kubeconfig_of(server), "-A", "-n", "default"}).exit_code == 2);
  CHECK(run_cli({"watch", "--kubeconfig", kubeconfig_of(server), "-n", "Not_A_Namespace"}).exit_code == 2);
  CHECK(run_cli({"watch", "--kubeconfig", kubeconfig_of(server), "--deletion-policy", "sometimes"}).exit_code == 2);
  const std::string exec = kubeconfig_with_user(
      server, dir, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: gke-gcloud-auth-plugin\n");
  CHECK(run_cli({"watch", "--kubeconfig", exec}).exit_code == 6);
}
