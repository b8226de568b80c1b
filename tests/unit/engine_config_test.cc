// Settings -> engine configuration: one source, the scopes, and errors that name what is wrong.
#include <catch2/catch.hpp>

#include "config_test_dir.h"
#include "engine_config.h"

using certsync::ConfigMap;
using certsync::EngineConfig;
using certsync::resolve_config;
using certsync::test::ConfigTestDir;

namespace {

std::string error_of(const ConfigMap& settings) {
  auto result = resolve_config(settings);
  auto* error = std::get_if<std::string>(&result);
  return error ? *error : "";
}

EngineConfig config_of(const ConfigMap& settings) {
  auto result = resolve_config(settings);
  if (auto* error = std::get_if<std::string>(&result)) FAIL(*error);
  return std::get<EngineConfig>(result);
}

ConfigMap explicit_settings(const ConfigTestDir& dir) {
  return {{"server", "https://127.0.0.1:6443"},
          {"ca_file", dir.write("ca.crt", "CA")},
          {"token_file", dir.write("token", "t0k3n\n")}};
}

}  // namespace

TEST_CASE("one namespace gives one scope, several give one each, * gives all namespaces", "[engine_config]") {
  ConfigTestDir dir;
  auto settings = explicit_settings(dir);
  settings["namespace"] = "default";
  REQUIRE(config_of(settings).scopes.size() == 1);
  REQUIRE(config_of(settings).scopes[0].collection_path() == "/api/v1/namespaces/default/secrets");
  settings.erase("namespace");
  settings["namespaces"] = "a, b,a";
  REQUIRE(config_of(settings).scopes.size() == 2);
  settings["namespaces"] = "*";
  settings["label_selector"] = "app=web";
  auto all = config_of(settings).scopes;
  REQUIRE(all.size() == 1);
  REQUIRE(all[0].collection_path() == "/api/v1/secrets");
  REQUIRE(all[0].selector_query() == "labelSelector=app%3Dweb&fieldSelector=type%3Dkubernetes.io%2Ftls");
}

TEST_CASE("named Secrets get one scope each, with a field selector on the name", "[engine_config]") {
  ConfigTestDir dir;
  auto settings = explicit_settings(dir);
  settings["namespace"] = "web";
  settings["secret_names"] = "a-tls, other/b-tls";
  auto scopes = config_of(settings).scopes;
  REQUIRE(scopes.size() == 2);
  REQUIRE(scopes[0].collection_path() == "/api/v1/namespaces/web/secrets");
  REQUIRE(scopes[0].selector_query() == "fieldSelector=type%3Dkubernetes.io%2Ftls%2Cmetadata.name%3Da-tls");
  REQUIRE(scopes[1].collection_path() == "/api/v1/namespaces/other/secrets");
  REQUIRE(scopes[1].contains("other/b-tls", "kubernetes.io/tls"));
  REQUIRE_FALSE(scopes[1].contains("other/b-tls-2", "kubernetes.io/tls"));
}

TEST_CASE("bad settings are refused with a message naming the setting or file", "[engine_config]") {
  ConfigTestDir dir;
  auto good = explicit_settings(dir);
  good["namespace"] = "default";
  auto with = [&](const std::string& key, const std::string& value) {
    auto s = good;
    s[key] = value;
    return error_of(s);
  };
  auto without = [&](const std::string& key) {
    auto s = good;
    s.erase(key);
    return error_of(s);
  };
  REQUIRE(error_of(good).empty());
  REQUIRE(with("bogus", "1") == "unknown configuration key \"bogus\"");
  REQUIRE_THAT(with("ca_file", "/nonexistent/ca.crt"), Catch::Contains("ca_file /nonexistent/ca.crt cannot be read"));
  REQUIRE_THAT(with("token_file", "/nonexistent/token"),
               Catch::Contains("token_file /nonexistent/token cannot be read"));
  REQUIRE_THAT(without("server"), Catch::Contains("server is required"));
  REQUIRE_THAT(with("server", "ftp://x"), Catch::Contains("server must be an https:// URL"));
  REQUIRE_THAT(without("ca_file"), Catch::Contains("ca_file is required"));
  REQUIRE_THAT(with("namespace", "Not_A_Namespace"), Catch::Contains("not a valid namespace name"));
  REQUIRE_THAT(with("deletion_policy", "maybe"), Catch::Contains("deletion_policy must be"));
  REQUIRE_THAT(with("max_event_bytes", "12"), Catch::Contains("max_event_bytes must be a number of bytes"));
  REQUIRE_THAT(with("client_cert_file", dir.write("c.crt", "C")), Catch::Contains("client_cert_file and client_key_file"));
  REQUIRE_THAT(with("in_cluster", "true"), Catch::Contains("choose one connection source"));
  auto many = good;
  many.erase("namespace");
  many["namespaces"] = "a,b";
  many["secret_names"] = "x";
  REQUIRE_THAT(error_of(many), Catch::Contains("secret_names: \"x\" needs its namespace"));
  REQUIRE(with("secret_types", "") == "secret_types must name at least one type (or \"*\" for every type)");
  REQUIRE(with("secret_types", " , ") == "secret_types must name at least one type (or \"*\" for every type)");
  REQUIRE(with("secret_types", "Opaque,*") == "secret_types: \"*\" means every type and must stand alone");
  REQUIRE_THAT(with("secret_types", "type=x"), Catch::Contains("secret_types: \"type=x\" is not a Secret type"));
  REQUIRE_THAT(with("secret_types", "my type"), Catch::Contains("secret_types: \"my type\" is not a Secret type"));
  // certsync_config_set checks the value on its own, with the same message.
  REQUIRE(certsync::check_config_entry("secret_types", "a!b").value_or("") ==
          "secret_types: \"a!b\" is not a Secret type (printable, no spaces, no ',', '=', '!' or '\\', at most 253 "
          "bytes)");
  REQUIRE_FALSE(certsync::check_config_entry("secret_types", "kubernetes.io/tls, Opaque").has_value());
}

TEST_CASE("secret_types defaults to kubernetes.io/tls and gives one scope per type per place", "[engine_config]") {
  ConfigTestDir dir;
  auto settings = explicit_settings(dir);
  settings["namespaces"] = "a,b";
  auto scopes = config_of(settings).scopes;
  REQUIRE(scopes.size() == 2);
  for (const auto& scope : scopes) REQUIRE(scope.secret_type == "kubernetes.io/tls");
  settings["secret_types"] = "kubernetes.io/tls, Opaque,Opaque";
  scopes = config_of(settings).scopes;
  REQUIRE(scopes.size() == 4);
  REQUIRE(scopes[0].describe() == "namespace a, type kubernetes.io/tls");
  REQUIRE(scopes[1].describe() == "namespace a, type Opaque");
  REQUIRE(scopes[3].describe() == "namespace b, type Opaque");
  REQUIRE(scopes[3].selector_query() == "fieldSelector=type%3DOpaque");
  settings["secret_types"] = "*";
  scopes = config_of(settings).scopes;
  REQUIRE(scopes.size() == 2);
  REQUIRE(scopes[0].secret_type.empty());
  REQUIRE(scopes[0].selector_query().empty());
}

TEST_CASE("a kubeconfig source names the file and the context in its errors", "[engine_config]") {
  ConfigTestDir dir;
  const std::string broken = dir.write("broken.yaml", "clusters: [\n  - name: x\n    cluster: {server:\n");
  REQUIRE_THAT(error_of({{"kubeconfig", broken}}), Catch::Contains(broken));
  const std::string good = dir.write("config.yaml", R"(apiVersion: v1
kind: Config
current-context: main
clusters:
- name: c
  cluster: {server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: "s3cr3t-token"}
contexts:
- name: main
  context: {cluster: c, user: u, namespace: web}
)");
  REQUIRE_THAT(error_of({{"kubeconfig", good}, {"context", "nope"}}), Catch::Contains("\"nope\""));
  auto config = config_of({{"kubeconfig", good}});
  REQUIRE(config.connection->server == "https://10.0.0.1:6443");
  REQUIRE(config.scopes.size() == 1);
  REQUIRE(config.scopes[0].namespace_name == "web");  // the context's namespace
  REQUIRE(error_of({{"kubeconfig", good}, {"context", "nope"}}).find("s3cr3t") == std::string::npos);
}

TEST_CASE("in-cluster settings take the namespace of the service account", "[engine_config]") {
  ConfigTestDir dir;
  dir.write("sa/ca.crt", "CA");
  dir.write("sa/token", "t");
  dir.write("sa/namespace", "kong\n");
  auto config = config_of({{"in_cluster", "true"},
                           {"in_cluster_host", "fd00::1"},
                           {"in_cluster_port", "443"},
                           {"service_account_dir", dir.file("sa")}});
  REQUIRE(config.connection->server == "https://[fd00::1]:443");
  REQUIRE(config.scopes[0].namespace_name == "kong");
  REQUIRE_THAT(error_of({{"in_cluster", "true"}, {"in_cluster_host", ""}, {"in_cluster_port", ""},
                         {"service_account_dir", dir.file("sa")}}),
               Catch::Contains("KUBERNETES_SERVICE_HOST"));
}
