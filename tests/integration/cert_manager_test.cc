// cert-manager Certificates watched beside the Secrets, against the API test
// server with the CRD served, absent (404) and forbidden (403): the
// Certificates and their Secrets join by spec.secretName, and a cluster
// without them (or an identity without list/watch on them) costs one log
// line and a status field, never a Secret served.
#include <catch2/catch.hpp>

#include <vector>

#include "watcher_fixture.h"

using namespace certsync::testing;
using namespace std::chrono_literals;

namespace {

std::string certificate_json(const std::string& ns, const std::string& name, const std::string& secret) {
  return nlohmann::json({{"apiVersion", "cert-manager.io/v1"},
                         {"kind", "Certificate"},
                         {"metadata", {{"name", name}, {"namespace", ns}}},
                         {"spec",
                          {{"secretName", secret},
                           {"dnsNames", {name + ".example.test"}},
                           {"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}}}})
      .dump();
}

std::string certificates_path(const std::string& ns) { return "/apis/cert-manager.io/v1/namespaces/" + ns + "/certificates"; }

// Writes the status as cert-manager does, through the status subresource.
void put_status(TestServerProcess& server, const std::string& ns, const std::string& name, const std::string& secret,
                const nlohmann::json& status) {
  auto body = nlohmann::json::parse(certificate_json(ns, name, secret));
  body["status"] = status;
  REQUIRE(server.put_json(certificates_path(ns) + "/" + name + "/status", body.dump()) == 200);
}

nlohmann::json ready_status(int revision) {
  return {{"conditions",
           {{{"type", "Ready"},
             {"status", "True"},
             {"reason", "Ready"},
             {"message", "Certificate is up to date and has not expired"},
             {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}},
          {"notBefore", "2026-01-01T00:00:00Z"},
          {"notAfter", "2026-04-01T00:00:00Z"},
          {"renewalTime", "2026-03-02T00:00:00Z"},
          {"revision", revision}};
}

// The library's Certificates (certsync_certificates_json), and its version.
nlohmann::json certificates(certsync_t* cs, uint64_t known = 0, uint64_t* version = nullptr) {
  size_t len = 0;
  uint64_t current = 0;
  char* text = certsync_certificates_json(cs, known, &current, &len);
  if (version != nullptr) *version = current;
  if (text == nullptr) return nullptr;
  auto out = nlohmann::json::parse(std::string(text, len));
  certsync_free(text);
  return out;
}

const nlohmann::json* find(const nlohmann::json& list, const std::string& id) {
  if (!list.is_array()) return nullptr;
  for (const auto& c : list)
    if (c["id"] == id) return &c;
  return nullptr;
}

std::vector<std::string> drain_logs(certsync_t* cs) {
  std::vector<std::string> out;
  int level = 0;
  size_t len = 0;
  while (char* line = certsync_log_pop(cs, &level, &len)) {
    out.emplace_back(line, len);
    certsync_free(line);
  }
  return out;
}

size_t count_containing(const std::vector<std::string>& lines, const std::string& text) {
  size_t n = 0;
  for (const auto& line : lines) n += line.find(text) != std::string::npos ? 1 : 0;
  return n;
}

void put_secret(TestServerProcess& server, const std::string& ns, const std::string& name) {
  const auto pair = make_pair_for(name + ".example.test", 0);
  const long code = server.put_tls_secret(ns, name, pair.crt, pair.key);
  REQUIRE((code == 200 || code == 201));
}

}  // namespace

TEST_CASE("Certificates are watched beside the Secrets, with what cert-manager wrote in their status",
          "[cert-manager]") {
  TestServerProcess::Options options;
  options.cert_manager = "served";
  TestServerProcess server(options);
  put_secret(server, "default", "app-tls");
  REQUIRE(server.post_json(certificates_path("default"), certificate_json("default", "app", "app-tls")) == 201);
  put_status(server, "default", "app", "app-tls", ready_status(1));
  auto cs = start_certsync(settings_for(server));
  // One more watch: the Secrets' and the Certificates' of namespace default.
  REQUIRE(wait_until([&] { return server.counters()["open_watches"] == 2 && served(cs.get()).size() == 1; }));
  REQUIRE(wait_until([&] { return find(certificates(cs.get()), "default/app") != nullptr; }));
  const auto listed = certificates(cs.get());
  const auto& app = *find(listed, "default/app");
  CHECK(app["secret"] == "default/app-tls");
  CHECK(app["issuer"] == "ClusterIssuer/ca");
  CHECK(app["ready"]["status"] == "True");
  CHECK(app["ready"]["reason"] == "Ready");
  CHECK(app["revision"] == 1);
  CHECK(app["not_after"] == 1775001600);     // 2026-04-01T00:00:00Z
  CHECK(app["renewal_time"] == 1772409600);  // 2026-03-02T00:00:00Z
  CHECK(app["last_failure_time"] == 0);
  const auto summary = status(cs.get())["cert_manager"];
  CHECK(summary["watching"] == true);
  CHECK(summary["certificates"] == 1);
  CHECK(summary["scopes"][0]["state"] == "watching");

  SECTION("a failed issuance arrives as an event; the version tells a reader whether to look") {
    uint64_t version = 0;
    certificates(cs.get(), 0, &version);
    CHECK(certificates(cs.get(), version).is_null());  // nothing changed: nothing handed out
    auto failing = ready_status(1);
    failing["conditions"] = {{{"type", "Ready"}, {"status", "False"}, {"reason", "Failed"}, {"message", "order failed"}},
                             {{"type", "Issuing"}, {"status", "False"}, {"reason", "Failed"}, {"message", "order failed"}}};
    failing["lastFailureTime"] = "2026-03-03T10:00:00Z";
    failing["failedIssuanceAttempts"] = 2;
    put_status(server, "default", "app", "app-tls", failing);
    REQUIRE(wait_until([&] {
      const auto now = certificates(cs.get(), version);
      const auto* c = find(now, "default/app");
      return c != nullptr && (*c)["ready"]["status"] == "False";
    }));
    const auto now = certificates(cs.get());  // find() points into it
    const auto* c = find(now, "default/app");
    REQUIRE(c != nullptr);
    CHECK((*c)["issuing"]["reason"] == "Failed");
    CHECK((*c)["failed_issuance_attempts"] == 2);
    CHECK((*c)["last_failure_time"] == 1772532000);
  }

  SECTION("a deleted Certificate is gone; its Secret keeps serving") {
    REQUIRE(server.delete_path(certificates_path("default") + "/app") == 200);
    REQUIRE(wait_until([&] { return find(certificates(cs.get()), "default/app") == nullptr; }));
    CHECK(served(cs.get()).count("default/app-tls") == 1);
  }
}

TEST_CASE("without the Certificate CRD (404), one log line and the status say so; Secrets serve as before",
          "[cert-manager]") {
  TestServerProcess server;  // --cert-manager absent
  put_secret(server, "a", "one");
  put_secret(server, "b", "two");
  auto cs = start_certsync(settings_for(server, {{"namespace", ""}, {"namespaces", "a,b"}}));
  std::vector<std::string> logs;
  REQUIRE(wait_until([&] {
    auto more = drain_logs(cs.get());
    logs.insert(logs.end(), more.begin(), more.end());
    const auto s = status(cs.get());
    return served(cs.get()).size() == 2 && s["cert_manager"]["scopes_unavailable"] == 2;
  }));
  const auto s = status(cs.get());
  CHECK(s["cert_manager"]["watching"] == false);
  CHECK(s["cert_manager"]["reason"].get<std::string>().find("HTTP 404") != std::string::npos);
  CHECK(s["cert_manager"]["scopes"][0]["state"] == "unavailable");
  for (const auto& w : s["watchers"]) {
    CHECK(w["state"] == "watching");
    CHECK(w["errors"].empty());
  }
  CHECK(s["synced"] == true);
  auto more = drain_logs(cs.get());
  logs.insert(logs.end(), more.begin(), more.end());
  // Two namespaces, one line: the CRD is missing cluster-wide.
  CHECK(count_containing(logs, "not watching certificates.cert-manager.io") == 1);
  CHECK(certificates(cs.get()) == nlohmann::json::array());
}

TEST_CASE("RBAC without list on Certificates (403) switches them off, never the Secrets", "[cert-manager]") {
  TestServerProcess::Options options;
  options.cert_manager = "forbidden";
  TestServerProcess server(options);
  put_secret(server, "default", "app-tls");
  auto cs = start_certsync(settings_for(server));
  REQUIRE(wait_until([&] {
    return served(cs.get()).size() == 1 && status(cs.get())["cert_manager"]["scopes_unavailable"] == 1;
  }));
  const auto s = status(cs.get());
  CHECK(s["cert_manager"]["watching"] == false);
  CHECK(s["cert_manager"]["reason"].get<std::string>().find("HTTP 403") != std::string::npos);
  CHECK(s["watchers"][0]["errors"].empty());
  const auto logs = drain_logs(cs.get());
  CHECK(count_containing(logs, "not watching certificates.cert-manager.io") == 1);
  CHECK(count_containing(logs, "RBAC does not allow list on certificates.cert-manager.io in namespace default") == 1);
  // A renewal still goes through.
  const auto renewed = make_pair_for("app-tls.example.test", 1);
  REQUIRE(server.put_tls_secret("default", "app-tls", renewed.crt, renewed.key) == 200);
  REQUIRE(wait_until([&] { return served(cs.get())["default/app-tls"] == serial_of(renewed.crt); }));
}

TEST_CASE("cert_manager = off never asks for Certificates", "[cert-manager]") {
  TestServerProcess::Options options;
  options.cert_manager = "served";
  TestServerProcess server(options);
  put_secret(server, "default", "app-tls");
  auto cs = start_certsync(settings_for(server, {{"cert_manager", "off"}}));
  REQUIRE(wait_until([&] { return served(cs.get()).size() == 1 && server.counters()["open_watches"] == 1; }));
  const auto s = status(cs.get());
  CHECK(s["cert_manager"]["enabled"] == false);
  CHECK(s["cert_manager"]["watching"] == false);
  CHECK(server.log().find("/apis/cert-manager.io") == std::string::npos);
  CHECK(creation_error(settings_for(server, {{"cert_manager", "sometimes"}})) ==
        "cert_manager must be \"auto\" or \"off\" (got \"sometimes\")");
}
