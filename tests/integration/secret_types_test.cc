// secret_types: the API server filters Secrets by type (fieldSelector=type=),
// so only the types certsync serves cross the wire; several types are one
// watch each, and the relist of one never drops another's Secrets.
// bytes_received shows what crossed.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "watcher_fixture.h"

using namespace certsync::testing;

namespace {

void put_tls(TestServerProcess& server, const std::string& name, int slot = 0, const std::string& ns = "default") {
  const auto pair = make_pair_for(name + ".example.test", slot);
  const long status = server.put_tls_secret(ns, name, pair.crt, pair.key);
  REQUIRE((status == 200 || status == 201));
}

// An Opaque Secret in "default"; with a pair when `with_pair`, and a
// `padding` entry of `padding_bytes` (a Helm release or a credential, say).
void post_opaque(TestServerProcess& server, const std::string& name, bool with_pair, size_t padding_bytes = 0) {
  nlohmann::json string_data = nlohmann::json::object();
  if (with_pair) {
    const auto pair = make_pair_for(name + ".example.test", 0);
    string_data["tls.crt"] = pair.crt;
    string_data["tls.key"] = pair.key;
  }
  if (padding_bytes > 0) string_data["padding"] = std::string(padding_bytes, 'x');
  const nlohmann::json secret = {{"apiVersion", "v1"},
                                 {"kind", "Secret"},
                                 {"type", "Opaque"},
                                 {"metadata", {{"name", name}}},
                                 {"stringData", string_data}};
  REQUIRE(server.post_json("/api/v1/namespaces/default/secrets", secret.dump()) == 201);
}

std::set<std::string> served_ids(certsync_t* cs) {
  std::set<std::string> ids;
  for (const auto& [id, serial] : served(cs)) ids.insert(id);
  return ids;
}

bool synced_and_watching(certsync_t* cs) {
  const auto current = status(cs);
  for (const auto& w : current["watchers"])
    if (w["state"] != "watching") return false;
  return current["synced"] == true;
}

// The server's request log lines (it logs a request when it ends).
std::vector<std::string> log_lines(const TestServerProcess& server) {
  std::vector<std::string> lines;
  std::istringstream text(server.log());
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  return lines;
}

bool logged(const TestServerProcess& server, const std::string& selector, bool watch) {
  for (const auto& line : log_lines(server)) {
    if (line.find("GET /api/v1/namespaces/default/secrets?") == std::string::npos) continue;
    if ((line.find("watch=true") != std::string::npos) == watch && line.find(selector) != std::string::npos)
      return true;
  }
  return false;
}

uint64_t bytes_received(certsync_t* cs, size_t watcher = 0) {
  return status(cs)["watchers"][watcher]["bytes_received"].get<uint64_t>();
}

}  // namespace

TEST_CASE("by default only kubernetes.io/tls Secrets are listed and watched, by field selector on the server",
          "[secret_types]") {
  TestServerProcess server;
  post_opaque(server, "opaque-before", /*with_pair=*/true);
  put_tls(server, "tls-before");
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] { return synced_and_watching(cs.get()); }));
  REQUIRE(served_ids(cs.get()) == std::set<std::string>{"default/tls-before"});
  const auto watcher = status(cs.get())["watchers"][0];
  REQUIRE(watcher["scope"] == "namespace default, type kubernetes.io/tls");
  REQUIRE(watcher["secret_type"] == "kubernetes.io/tls");
  // An Opaque Secret created while watching never arrives: the one event is
  // the TLS Secret written after it.
  const auto events = watcher["events"].get<uint64_t>();
  post_opaque(server, "opaque-after", /*with_pair=*/true);
  put_tls(server, "tls-after");
  REQUIRE(wait_until([&] { return served_ids(cs.get()).count("default/tls-after") == 1; }));
  REQUIRE(status(cs.get())["watchers"][0]["events"].get<uint64_t>() == events + 1);
  REQUIRE(served_ids(cs.get()) == std::set<std::string>{"default/tls-after", "default/tls-before"});
  server.close_watches();  // the server logs the watch once it ends
  const std::string selector = "fieldSelector=type%3Dkubernetes.io%2Ftls";
  REQUIRE(wait_until([&] { return logged(server, selector, /*watch=*/true); }));
  REQUIRE(logged(server, selector, /*watch=*/false));
}

TEST_CASE("several secret_types are one watch each, each with its own type selector", "[secret_types]") {
  TestServerProcess server;
  post_opaque(server, "opaque", /*with_pair=*/true);
  put_tls(server, "tls");
  auto cs = start_certsync(settings_for(server, {{"secret_types", "kubernetes.io/tls, Opaque"}}));
  REQUIRE(wait_until([&] { return synced_and_watching(cs.get()) && server.counters()["open_watches"] == 2; }));
  REQUIRE(served_ids(cs.get()) == std::set<std::string>{"default/opaque", "default/tls"});
  std::set<std::string> scopes;
  const auto current = status(cs.get());  // kept alive while the loop walks it
  for (const auto& w : current["watchers"]) scopes.insert(w["scope"].get<std::string>());
  REQUIRE(scopes == std::set<std::string>{"namespace default, type Opaque", "namespace default, type kubernetes.io/tls"});
  server.close_watches();
  REQUIRE(wait_until([&] {
    return logged(server, "fieldSelector=type%3DOpaque", true) &&
           logged(server, "fieldSelector=type%3Dkubernetes.io%2Ftls", true);
  }));
  REQUIRE(logged(server, "fieldSelector=type%3DOpaque", false));
  REQUIRE(logged(server, "fieldSelector=type%3Dkubernetes.io%2Ftls", false));
}

TEST_CASE("a relist of one type's scope keeps the other type's Secrets", "[secret_types]") {
  TestServerProcess server;
  post_opaque(server, "opaque", /*with_pair=*/true);
  put_tls(server, "tls");
  // remove: a Secret a relist wrongly took for vanished would stop being served.
  auto cs = start_certsync(
      settings_for(server, {{"secret_types", "kubernetes.io/tls,Opaque"}, {"deletion_policy", "remove"}}));
  REQUIRE(wait_until([&] { return synced_and_watching(cs.get()) && server.counters()["open_watches"] == 2; }));
  const uint64_t generation = certsync_generation(cs.get());
  // Both watches fall behind a compacted history (a write outside their
  // namespace moves it past them) and get 410: both scopes list again.
  put_tls(server, "elsewhere", 0, "elsewhere");
  server.compact();
  server.close_watches();
  REQUIRE(wait_until([&] {
    const auto current = status(cs.get());
    for (const auto& w : current["watchers"])
      if (w["relists"] != 1 || w["state"] != "watching") return false;
    return true;
  }));
  // Each relist found its own Secret unchanged and left the other's alone: no new generation.
  REQUIRE(certsync_generation(cs.get()) == generation);
  REQUIRE(served_ids(cs.get()) == std::set<std::string>{"default/opaque", "default/tls"});
}

TEST_CASE("bytes_received counts what crosses the wire, and Secrets of other types do not", "[secret_types]") {
  TestServerProcess server;
  put_tls(server, "tls");
  post_opaque(server, "helm-release", /*with_pair=*/false, /*padding_bytes=*/200 * 1024);
  auto filtered = start_certsync(settings_for(server));
  auto every_type = start_certsync(settings_for(server, {{"secret_types", "*"}}));
  REQUIRE(wait_until([&] { return synced_and_watching(filtered.get()) && synced_and_watching(every_type.get()); }));
  REQUIRE(status(every_type.get())["watchers"][0]["scope"] == "namespace default, any type");
  REQUIRE(status(every_type.get())["watchers"][0]["secret_type"] == "*");
  const uint64_t listed = bytes_received(filtered.get());
  REQUIRE(listed > 0);
  REQUIRE(listed < 50 * 1024);                               // the TLS Secret only
  REQUIRE(bytes_received(every_type.get()) > 200 * 1024);    // the padding crossed too
  // A watch event adds its bytes as it arrives.
  put_tls(server, "tls", 1);
  REQUIRE(wait_until([&] { return bytes_received(filtered.get()) > listed; }));
}
