// In-cluster configuration: the kubernetes Service's URL and the pod's
// service account files, as client-go's rest.InClusterConfig reads them.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <optional>
#include <string>
#include <variant>

#include "config_test_dir.h"
#include "kube/in_cluster.h"

using certsync::kube::ConnectionConfig;
using certsync::kube::ConnectionResult;
using certsync::kube::in_cluster_host_port_from_environment;
using certsync::kube::load_in_cluster;
using certsync::test::ConfigTestDir;
using Catch::Matchers::Contains;

namespace {

const std::string kToken = "in-cluster-tok3n-never-in-an-error";

ConnectionConfig expect_config(const ConnectionResult& result) {
  if (const auto* error = std::get_if<std::string>(&result)) FAIL("unexpected error: " << *error);
  return std::get<ConnectionConfig>(result);
}

std::string expect_error(const ConnectionResult& result) {
  if (std::holds_alternative<ConnectionConfig>(result)) FAIL("expected an error, got a configuration");
  return std::get<std::string>(result);
}

// A service account directory as kubelet mounts it.
void write_service_account(const ConfigTestDir& dir, const std::optional<std::string>& namespace_file) {
  dir.write("sa/ca.crt", "-----BEGIN CERTIFICATE-----\nSU4tQ0xVU1RFUi1DQQ==\n-----END CERTIFICATE-----\n");
  dir.write("sa/token", kToken);
  if (namespace_file) dir.write("sa/namespace", *namespace_file);
}

// Sets or unsets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("In-cluster with an IPv4 host gives https://HOST:PORT and the service account files", "[in_cluster]") {
  ConfigTestDir dir;
  write_service_account(dir, "team-a\n");
  const ConnectionConfig config = expect_config(load_in_cluster("10.96.0.1", "443", dir.file("sa")));
  CHECK(config.server == "https://10.96.0.1:443");
  CHECK(config.ca_file == dir.file("sa/ca.crt"));
  CHECK(config.token_file == dir.file("sa/token"));
  CHECK(config.default_namespace == "team-a");
  // The token is re-read from its file by the transport (it rotates), never held here.
  CHECK(config.token.empty());
  CHECK(config.ca_pem.empty());
  CHECK_FALSE(config.insecure_skip_tls_verify);

  SECTION("a trailing slash on the directory changes nothing") {
    CHECK(expect_config(load_in_cluster("10.96.0.1", "443", dir.file("sa/"))).token_file == dir.file("sa/token"));
  }
}

TEST_CASE("In-cluster with an IPv6 host puts it in brackets exactly once", "[in_cluster]") {
  ConfigTestDir dir;
  write_service_account(dir, "default");
  CHECK(expect_config(load_in_cluster("fd00::1", "443", dir.file("sa"))).server == "https://[fd00::1]:443");
  CHECK(expect_config(load_in_cluster("[fd00::1]", "443", dir.file("sa"))).server == "https://[fd00::1]:443");
  CHECK(expect_config(load_in_cluster("2001:db8::a:1", "6443", dir.file("sa"))).server ==
        "https://[2001:db8::a:1]:6443");
  CHECK(expect_config(load_in_cluster("kubernetes.default.svc", "443", dir.file("sa"))).server ==
        "https://kubernetes.default.svc:443");

  SECTION("hosts and ports that would make a wrong URL are refused") {
    CHECK_THAT(expect_error(load_in_cluster("[fd00::1", "443", dir.file("sa"))),
               Contains("KUBERNETES_SERVICE_HOST \"[fd00::1\" is not a host name or IP address"));
    CHECK_THAT(expect_error(load_in_cluster("evil.test/path", "443", dir.file("sa"))),
               Contains("KUBERNETES_SERVICE_HOST"));
    CHECK_THAT(expect_error(load_in_cluster("10.96.0.1", "https", dir.file("sa"))),
               Contains("KUBERNETES_SERVICE_PORT \"https\" is not a port number"));
    CHECK_THAT(expect_error(load_in_cluster("10.96.0.1", "65536", dir.file("sa"))),
               Contains("KUBERNETES_SERVICE_PORT"));
  }
}

TEST_CASE("In-cluster without the environment says which variables are missing and why workers lose them",
          "[in_cluster]") {
  ConfigTestDir dir;
  write_service_account(dir, "default");
  const std::string both = expect_error(load_in_cluster("", "", dir.file("sa")));
  CHECK_THAT(both, Contains("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set"));
  CHECK_THAT(both, Contains("nginx workers lose the environment unless it is passed explicitly"));
  CHECK_THAT(both, Contains("env KUBERNETES_SERVICE_HOST;"));
  CHECK_THAT(both, Contains("nginx_main_env = KUBERNETES_SERVICE_HOST; env KUBERNETES_SERVICE_PORT"));

  CHECK_THAT(expect_error(load_in_cluster("10.96.0.1", "", dir.file("sa"))),
             Contains("KUBERNETES_SERVICE_PORT is not set"));
  CHECK_THAT(expect_error(load_in_cluster("", "443", dir.file("sa"))),
             Contains("KUBERNETES_SERVICE_HOST is not set"));
}

TEST_CASE("In-cluster host and port are read from the process environment", "[in_cluster]") {
  {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
    CHECK(in_cluster_host_port_from_environment() == std::make_pair(std::string("10.96.0.1"), std::string("443")));
  }
  ScopedEnv host("KUBERNETES_SERVICE_HOST", nullptr);
  ScopedEnv port("KUBERNETES_SERVICE_PORT", nullptr);
  CHECK(in_cluster_host_port_from_environment() == std::make_pair(std::string(), std::string()));
}

TEST_CASE("In-cluster namespace file is optional and trimmed", "[in_cluster]") {
  ConfigTestDir dir;
  write_service_account(dir, std::nullopt);
  CHECK(expect_config(load_in_cluster("10.96.0.1", "443", dir.file("sa"))).default_namespace.empty());

  dir.write("sa/namespace", "  kong-system \n\n");
  CHECK(expect_config(load_in_cluster("10.96.0.1", "443", dir.file("sa"))).default_namespace == "kong-system");

  SECTION("a namespace path that cannot be read (not just missing) is an error") {
    std::filesystem::remove(dir.file("sa/namespace"));
    dir.mkdir("sa/namespace");
    CHECK_THAT(expect_error(load_in_cluster("10.96.0.1", "443", dir.file("sa"))),
               Contains("namespace file " + dir.file("sa/namespace") + ": Is a directory"));
  }
}

TEST_CASE("In-cluster with an unreadable token or CA file names the file and the reason", "[in_cluster]") {
  ConfigTestDir dir;
  write_service_account(dir, "default");
  std::filesystem::remove(dir.file("sa/token"));
  const std::string token_error = expect_error(load_in_cluster("10.96.0.1", "443", dir.file("sa")));
  CHECK_THAT(token_error, Contains("cannot read the service account token file " + dir.file("sa/token") +
                                   ": No such file or directory"));

  std::filesystem::remove(dir.file("sa/ca.crt"));
  CHECK_THAT(expect_error(load_in_cluster("10.96.0.1", "443", dir.file("sa"))),
             Contains("cannot read the service account CA file " + dir.file("sa/ca.crt") +
                      ": No such file or directory"));

  const std::string no_mount = expect_error(load_in_cluster("10.96.0.1", "443", dir.file("not-mounted")));
  CHECK_THAT(no_mount, Contains("automountServiceAccountToken"));
  CHECK_THAT(no_mount, !Contains(kToken));
}
