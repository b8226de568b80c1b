// What is watched, and how the watcher reaches the server: scopes (namespaces,
// all namespaces, named Secrets, label selectors) and configuration sources
// (explicit, kubeconfig, in-cluster service account), against the API test server.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "watcher_fixture.h"

using namespace certsync::testing;
using namespace std::chrono_literals;

namespace {

void put(TestServerProcess& server, const std::string& ns, const std::string& name, int slot = 0,
         const std::string& labels = "{}") {
  const auto pair = make_pair_for(name + ".example.test", slot);
  const long status = server.put_tls_secret(ns, name, pair.crt, pair.key, labels);
  REQUIRE((status == 200 || status == 201));
}

std::set<std::string> served_ids(certsync_t* cs) {
  std::set<std::string> ids;
  for (const auto& [id, serial] : served(cs)) ids.insert(id);
  return ids;
}

bool all_watching(certsync_t* cs) {
  const auto current = status(cs);  // keeps the JSON alive while the loop walks it
  for (const auto& w : current["watchers"])
    if (w["state"] != "watching") return false;
  return true;
}

}  // namespace

TEST_CASE("several namespaces are watched, one stream each, and nothing else", "[scope]") {
  TestServerProcess server;
  put(server, "a", "one");
  put(server, "b", "two");
  put(server, "c", "three");
  auto cs = start_certsync(settings_for(server, {{"namespace", ""}, {"namespaces", "a,b"}}));
  REQUIRE(wait_until([&] { return all_watching(cs.get()) && server.counters()["open_watches"] == 2; }));
  REQUIRE(served_ids(cs.get()) == std::set<std::string>{"a/one", "b/two"});
}

TEST_CASE("\"*\" watches every namespace with one stream", "[scope]") {
  TestServerProcess server;
  put(server, "a", "one");
  put(server, "b", "two");
  auto cs = start_certsync(settings_for(server, {{"namespace", "*"}}));
  REQUIRE(wait_until([&] { return all_watching(cs.get()) && server.counters()["open_watches"] == 1; }));
  put(server, "c", "three");
  REQUIRE(wait_until([&] { return served_ids(cs.get()).size() == 3; }));
}

TEST_CASE("named Secrets are watched one stream each, by field selector", "[scope]") {
  TestServerProcess server;
  put(server, "default", "wanted");
  put(server, "default", "also-wanted");
  put(server, "default", "unwanted");
  auto cs = start_certsync(settings_for(server, {{"secret_names", "wanted, default/also-wanted"}}));
  REQUIRE(wait_until([&] { return all_watching(cs.get()) && server.counters()["open_watches"] == 2; }));
  REQUIRE(served_ids(cs.get()) == std::set<std::string>{"default/also-wanted", "default/wanted"});
  const uint64_t generation = certsync_generation(cs.get());
  put(server, "default", "unwanted", 1);  // an update to another Secret changes nothing
  put(server, "default", "wanted", 1);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == generation + 1; }));
  REQUIRE(served_ids(cs.get()).size() == 2);
}

TEST_CASE("a Secret that leaves the label selector is treated as deleted", "[scope]") {
  TestServerProcess server;
  put(server, "default", "labelled", 0, R"({"certsync":"yes"})");
  put(server, "default", "plain");
  auto cs = start_certsync(settings_for(server, {{"label_selector", "certsync=yes"}, {"deletion_policy", "remove"}}));
  REQUIRE(wait_until([&] { return all_watching(cs.get()); }));
  REQUIRE(served_ids(cs.get()) == std::set<std::string>{"default/labelled"});
  put(server, "default", "labelled", 0, R"({"certsync":"no"})");
  REQUIRE(wait_until([&] { return served_ids(cs.get()).empty(); }));
}

// cert-manager keeps the type of a Secret that existed before, so its
// certificates may live in Opaque Secrets. Since secret_types (default
// kubernetes.io/tls) filters on the server, those are served only once the
// operator names Opaque; then they are served like TLS ones.
TEST_CASE("an Opaque Secret holding tls.crt and tls.key is served like a TLS one once secret_types names Opaque",
          "[scope]") {
  TestServerProcess server;
  const auto pair = make_pair_for("opaque.example.test", 0);
  // Through kubectl's usual path: stringData folded into data by the server.
  std::string body = R"({"apiVersion":"v1","kind":"Secret","type":"Opaque","metadata":{"name":"opaque"},)"
                     R"("stringData":{"tls.crt":)" + nlohmann::json(pair.crt).dump() +
                     R"(,"tls.key":)" + nlohmann::json(pair.key).dump() + "}}";
  REQUIRE(server.post_json("/api/v1/namespaces/default/secrets", body) == 201);
  put(server, "default", "tls");
  {
    auto by_default = start_certsync(settings_for(server));
    REQUIRE(wait_until([&] { return all_watching(by_default.get()) && certsync_generation(by_default.get()) > 0; }));
    REQUIRE(served_ids(by_default.get()) == std::set<std::string>{"default/tls"});
  }
  auto cs = start_certsync(settings_for(server, {{"secret_types", "kubernetes.io/tls,Opaque"}}));
  REQUIRE(wait_until([&] {
    return served_ids(cs.get()) == std::set<std::string>{"default/opaque", "default/tls"};
  }));
}

TEST_CASE("the server's own kubeconfig is enough to connect", "[source]") {
  TestServerProcess server;
  put(server, "default", "one");
  auto cs = start_certsync({{"kubeconfig", server.dir() + "/kubeconfig"}});
  REQUIRE(wait_until([&] { return served_ids(cs.get()) == std::set<std::string>{"default/one"}; }));
}

TEST_CASE("a service account directory and the service's address are enough to connect", "[source]") {
  TestServerProcess server;
  put(server, "team", "one");
  const std::string sa = server.dir() + "/serviceaccount";
  std::filesystem::create_directories(sa);
  std::filesystem::copy_file(server.ca_file(), sa + "/ca.crt");
  std::filesystem::copy_file(server.token_file(), sa + "/token");
  std::ofstream(sa + "/namespace") << "team";
  const std::string port = server.url().substr(server.url().rfind(':') + 1);
  auto cs = start_certsync({{"in_cluster", "true"},
                            {"in_cluster_host", "127.0.0.1"},
                            {"in_cluster_port", port},
                            {"service_account_dir", sa}});
  REQUIRE(wait_until([&] { return served_ids(cs.get()) == std::set<std::string>{"team/one"}; }));
}
