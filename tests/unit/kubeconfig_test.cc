// Kubeconfig: the supported subset read as kubectl reads it, and errors that
// name the file and the field without ever showing a token or key.
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "config_test_dir.h"
#include "kube/kubeconfig.h"
#include "util/base64.h"

using certsync::kube::ConnectionConfig;
using certsync::kube::ConnectionResult;
using certsync::kube::load_kubeconfig;
using certsync::test::ConfigTestDir;
using Catch::Matchers::Contains;

namespace {

// PEM-looking text: load_kubeconfig never parses PEM, so no real key is needed.
const std::string kCaPem = "-----BEGIN CERTIFICATE-----\nVEVTVC1DQS1DRVJU\n-----END CERTIFICATE-----\n";
const std::string kCertPem = "-----BEGIN CERTIFICATE-----\nVEVTVC1DTElFTlQtQ0VSVA==\n-----END CERTIFICATE-----\n";
const std::string kKeyBody = "S0VZLU1BVEVSSUFMLW5ldmVyLWluLWFuLWVycm9y";
const std::string kKeyPem = "-----BEGIN FAKE PRIVATE KEY-----\n" + kKeyBody + "\n-----END FAKE PRIVATE KEY-----\n";
const std::string kToken = "tok3n-never-in-an-error-0123456789";

ConnectionConfig expect_config(const ConnectionResult& result) {
  if (const auto* error = std::get_if<std::string>(&result)) FAIL("unexpected error: " << *error);
  return std::get<ConnectionConfig>(result);
}

std::string expect_error(const ConnectionResult& result) {
  if (std::holds_alternative<ConnectionConfig>(result)) FAIL("expected an error, got a configuration");
  return std::get<std::string>(result);
}

// Two clusters, two users, two contexts; "dev" is current.
const char* kTwoContexts = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example.test:6443
- name: prod-cluster
  cluster:
    server: https://prod.example.test:443/
users:
- name: dev-user
  user: {}
- name: prod-user
  user: {}
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
- name: prod
  context:
    cluster: prod-cluster
    user: prod-user
    namespace: payments
)";

}  // namespace

TEST_CASE("The kubeconfig's current-context is used when no context is named", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string path = dir.write("config", kTwoContexts);
  const ConnectionConfig config = expect_config(load_kubeconfig(path, ""));
  CHECK(config.server == "https://dev.example.test:6443");
  CHECK(config.default_namespace.empty());
  CHECK(config.ca_file.empty());
  CHECK(config.ca_pem.empty());
  CHECK_FALSE(config.insecure_skip_tls_verify);
  CHECK(config.token.empty());
  CHECK(config.token_file.empty());
}

TEST_CASE("An explicitly named context is used instead of the current one", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string path = dir.write("config", kTwoContexts);
  const ConnectionConfig config = expect_config(load_kubeconfig(path, "prod"));
  CHECK(config.server == "https://prod.example.test:443");  // trailing slash dropped
}

TEST_CASE("The context's namespace becomes the default namespace", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string path = dir.write("config", kTwoContexts);
  CHECK(expect_config(load_kubeconfig(path, "prod")).default_namespace == "payments");
  CHECK(expect_config(load_kubeconfig(path, "dev")).default_namespace.empty());

  const std::string bad = dir.write("bad", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k.test"}}]
contexts: [{name: c, context: {cluster: k, namespace: Not_A_Namespace}}]
)");
  const std::string error = expect_error(load_kubeconfig(bad, ""));
  CHECK_THAT(error, Contains("namespace \"Not_A_Namespace\" of context \"c\" in kubeconfig " + bad));
}

TEST_CASE("Relative file paths are resolved against the kubeconfig's directory", "[kubeconfig]") {
  ConfigTestDir dir;
  dir.write("kube/pki/ca.crt", kCaPem);
  dir.write("kube/pki/client.crt", kCertPem);
  dir.write("kube/pki/client.key", kKeyPem);
  dir.write("secrets/token", kToken);
  const std::string path = dir.write("kube/config", R"(current-context: c
clusters:
- name: k
  cluster:
    server: https://k.example.test
    certificate-authority: pki/ca.crt
users:
- name: u
  user:
    tokenFile: ../secrets/token
    client-certificate: ./pki/client.crt
    client-key: pki/client.key
contexts:
- name: c
  context: {cluster: k, user: u}
)");
  const ConnectionConfig config = expect_config(load_kubeconfig(path, ""));
  CHECK(config.ca_file == dir.file("kube/pki/ca.crt"));
  CHECK(config.client_cert_file == dir.file("kube/pki/client.crt"));
  CHECK(config.client_key_file == dir.file("kube/pki/client.key"));
  CHECK(config.token_file == dir.file("secrets/token"));
  // The file contents are the transport's to read (they change); only the paths are carried.
  CHECK(config.ca_pem.empty());
  CHECK(config.client_cert_pem.empty());
  CHECK(config.client_key_pem.empty());
  CHECK(config.token.empty());

  SECTION("absolute paths are kept as they are") {
    const std::string absolute = dir.write("kube/absolute", std::string(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k.test", certificate-authority: ")") +
                                                              dir.file("kube/pki/ca.crt") + R"("}}]
contexts: [{name: c, context: {cluster: k}}]
)");
    CHECK(expect_config(load_kubeconfig(absolute, "")).ca_file == dir.file("kube/pki/ca.crt"));
  }
}

TEST_CASE("Certificate-authority, client certificate and key data fields are base64-decoded", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string path = dir.write("config", "current-context: c\n"
                                               "clusters:\n"
                                               "- name: k\n"
                                               "  cluster:\n"
                                               "    server: https://k.example.test\n"
                                               "    certificate-authority-data: " + certsync::base64_encode(kCaPem) + "\n"
                                               "users:\n"
                                               "- name: u\n"
                                               "  user:\n"
                                               "    client-certificate-data: " + certsync::base64_encode(kCertPem) + "\n"
                                               "    client-key-data: " + certsync::base64_encode(kKeyPem) + "\n"
                                               "contexts:\n"
                                               "- name: c\n"
                                               "  context: {cluster: k, user: u}\n");
  const ConnectionConfig config = expect_config(load_kubeconfig(path, ""));
  CHECK(config.ca_pem == kCaPem);
  CHECK(config.client_cert_pem == kCertPem);
  CHECK(config.client_key_pem.view() == kKeyPem);
  CHECK(config.ca_file.empty());
  CHECK(config.client_cert_file.empty());
  CHECK(config.client_key_file.empty());

  SECTION("data that is not base64 is refused, naming the field") {
    const std::string bad = dir.write("bad", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k.test", certificate-authority-data: "not base64!"}}]
contexts: [{name: c, context: {cluster: k}}]
)");
    CHECK(expect_error(load_kubeconfig(bad, "")) ==
          "certificate-authority-data of cluster \"k\" in kubeconfig " + bad + " is not valid base64");
  }
}

TEST_CASE("An inline token and a tokenFile are both carried", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string token_file = dir.write("token", kToken);
  const std::string path = dir.write("config", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k.test"}}]
users:
- name: inline
  user:
    token: )" + kToken + R"(
- name: file
  user:
    tokenFile: token
- name: both
  user:
    token: )" + kToken + R"(
    tokenFile: token
contexts:
- {name: c, context: {cluster: k, user: inline}}
- {name: f, context: {cluster: k, user: file}}
- {name: b, context: {cluster: k, user: both}}
)");
  const ConnectionConfig inline_token = expect_config(load_kubeconfig(path, "c"));
  CHECK(inline_token.token.view() == kToken);
  CHECK(inline_token.token_file.empty());

  const ConnectionConfig from_file = expect_config(load_kubeconfig(path, "f"));
  CHECK(from_file.token.empty());
  CHECK(from_file.token_file == token_file);

  // Both are carried; the transport prefers the file, as client-go does.
  const ConnectionConfig both = expect_config(load_kubeconfig(path, "b"));
  CHECK(both.token.view() == kToken);
  CHECK(both.token_file == token_file);
}

TEST_CASE("insecure-skip-tls-verify and tls-server-name are carried", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string path = dir.write("config", R"(current-context: c
clusters:
- name: k
  cluster:
    server: https://10.0.0.1:6443
    insecure-skip-tls-verify: true
    tls-server-name: kubernetes.default.svc
contexts: [{name: c, context: {cluster: k}}]
)");
  const ConnectionConfig config = expect_config(load_kubeconfig(path, ""));
  CHECK(config.insecure_skip_tls_verify);
  CHECK(config.tls_server_name == "kubernetes.default.svc");

  SECTION("insecure together with a certificate authority is refused") {
    const std::string bad = dir.write("bad", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k.test", insecure-skip-tls-verify: true,
            certificate-authority-data: "Q0E="}}]
contexts: [{name: c, context: {cluster: k}}]
)");
    CHECK_THAT(expect_error(load_kubeconfig(bad, "")),
               Contains("cluster \"k\" in kubeconfig " + bad + " sets insecure-skip-tls-verify together"));
  }
  SECTION("a value that is not a boolean is refused") {
    const std::string bad = dir.write("bad", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k.test", insecure-skip-tls-verify: maybe}}]
contexts: [{name: c, context: {cluster: k}}]
)");
    CHECK_THAT(expect_error(load_kubeconfig(bad, "")),
               Contains("insecure-skip-tls-verify of cluster \"k\" in kubeconfig " + bad + " must be true or false"));
  }
}

TEST_CASE("A user with exec or auth-provider credentials is refused with a clear message", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string path = dir.write("config", R"(current-context: eks
clusters: [{name: k, cluster: {server: "https://k.test"}}]
users:
- name: aws
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, demo]
- name: gcp
  user:
    auth-provider:
      name: gcp
- name: basic
  user:
    username: admin
    password: hunter2
contexts:
- {name: eks, context: {cluster: k, user: aws}}
- {name: gke, context: {cluster: k, user: gcp}}
- {name: old, context: {cluster: k, user: basic}}
)");
  CHECK(expect_error(load_kubeconfig(path, "")) ==
        "user \"aws\" in kubeconfig " + path +
            " uses exec credentials, which certsync does not support; use a token, tokenFile or client certificate");
  CHECK_THAT(expect_error(load_kubeconfig(path, "gke")),
             Contains("user \"gcp\" in kubeconfig " + path + " uses auth-provider credentials, which certsync"));
  const std::string basic = expect_error(load_kubeconfig(path, "old"));
  CHECK_THAT(basic, Contains("user \"basic\" in kubeconfig " + path + " uses basic authentication"));
  CHECK_THAT(basic, !Contains("hunter2"));
}

TEST_CASE("An unknown context is reported with the known ones", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string path = dir.write("config", kTwoContexts);
  CHECK(expect_error(load_kubeconfig(path, "foo")) ==
        "context \"foo\" not found in " + path + " (known: dev, prod)");

  SECTION("a current-context that does not exist is named as such") {
    const std::string stale = dir.write("stale", R"(current-context: gone
contexts: [{name: a, context: {cluster: k}}, {name: b, context: {cluster: k}}]
)");
    CHECK(expect_error(load_kubeconfig(stale, "")) ==
          "current-context \"gone\" not found in " + stale + " (known: a, b)");
  }
  SECTION("no current-context and none named") {
    const std::string none = dir.write("none", R"(contexts: [{name: a, context: {cluster: k}}]
)");
    CHECK(expect_error(load_kubeconfig(none, "")) ==
          "kubeconfig " + none + " has no current-context and no context was named (known: a)");
    const std::string empty = dir.write("empty", "");
    CHECK(expect_error(load_kubeconfig(empty, "")) ==
          "kubeconfig " + empty + " has no current-context and no context was named (known: none)");
  }
}

TEST_CASE("A context naming a missing cluster or user is refused", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string path = dir.write("config", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k.test"}}]
users: [{name: u, user: {}}]
contexts:
- {name: c, context: {cluster: elsewhere, user: u}}
- {name: d, context: {cluster: k, user: nobody}}
- {name: e, context: {user: u}}
)");
  CHECK(expect_error(load_kubeconfig(path, "c")) ==
        "context \"c\" in kubeconfig " + path +
            " names cluster \"elsewhere\", which is not defined (known clusters: k)");
  CHECK(expect_error(load_kubeconfig(path, "d")) ==
        "context \"d\" in kubeconfig " + path + " names user \"nobody\", which is not defined (known users: u)");
  CHECK(expect_error(load_kubeconfig(path, "e")) == "context \"e\" in kubeconfig " + path + " names no cluster");
}

TEST_CASE("Malformed YAML is reported with the file, line and column", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string path = dir.write("config", "current-context: c\n"
                                               "clusters:\n"
                                               "- name: k\n"
                                               "  cluster: {server: https://k.test\n"
                                               "users: []\n");
  const std::string error = expect_error(load_kubeconfig(path, ""));
  CHECK_THAT(error, Contains("malformed YAML in kubeconfig " + path + " at line "));
  CHECK_THAT(error, Contains(", column "));

  SECTION("the line is yaml-cpp's, counted from 1") {
    const std::string unclosed = dir.write("unclosed", "current-context: c\nclusters:\n- name: k\n  cluster:\n    server: [\n");
    CHECK_THAT(expect_error(load_kubeconfig(unclosed, "")),
               Contains("malformed YAML in kubeconfig " + unclosed + " at line 6, column 1"));
  }
  SECTION("a document of the wrong shape names the field") {
    const std::string list = dir.write("list", "- just\n- a list\n");
    CHECK(expect_error(load_kubeconfig(list, "")) == "kubeconfig " + list + " is not a YAML mapping (line 1)");
    const std::string clusters = dir.write("clusters", "clusters: {name: k}\n");
    CHECK(expect_error(load_kubeconfig(clusters, "")) ==
          "clusters in kubeconfig " + clusters + " must be a list (line 1)");
    const std::string server = dir.write("server", R"(current-context: c
clusters: [{name: k, cluster: {server: [a, b]}}]
contexts: [{name: c, context: {cluster: k}}]
)");
    CHECK(expect_error(load_kubeconfig(server, "")) ==
          "server of cluster \"k\" in kubeconfig " + server + " must be a string (line 2)");
    const std::string body = dir.write("body", "clusters: [{name: k, cluster: 7}]\n");
    CHECK(expect_error(load_kubeconfig(body, "")) ==
          "cluster \"k\" in kubeconfig " + body + ": field cluster must be a mapping (line 1)");
    const std::string deep = dir.write("deep", std::string(5000, '[') + std::string(5000, ']'));
    CHECK_THAT(expect_error(load_kubeconfig(deep, "")),
               Contains("malformed YAML in kubeconfig " + deep) && Contains("nested too deeply"));
    const std::string dup = dir.write("dup", "contexts: [{name: a}, {name: a}]\n");
    CHECK_THAT(expect_error(load_kubeconfig(dup, "")), Contains("two contexts are named \"a\" in kubeconfig " + dup));
  }
}

TEST_CASE("A cluster without a server is refused", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string path = dir.write("config", R"(current-context: c
clusters:
- name: k
  cluster:
    certificate-authority-data: Q0E=
- name: bare
contexts:
- {name: c, context: {cluster: k}}
- {name: b, context: {cluster: bare}}
- {name: ftp, context: {cluster: ftp}}
)");
  CHECK(expect_error(load_kubeconfig(path, "c")) == "cluster \"k\" in kubeconfig " + path + " has no server");
  CHECK(expect_error(load_kubeconfig(path, "b")) == "cluster \"bare\" in kubeconfig " + path + " has no server");

  SECTION("a server that is not an http(s) URL is refused") {
    const std::string bad = dir.write("bad", R"(current-context: c
clusters: [{name: k, cluster: {server: "k.example.test:6443"}}]
contexts: [{name: c, context: {cluster: k}}]
)");
    CHECK(expect_error(load_kubeconfig(bad, "")) ==
          "server of cluster \"k\" in kubeconfig " + bad + " is not an https:// URL");
  }
}

TEST_CASE("An unreadable certificate-authority or client file is named with the reason", "[kubeconfig]") {
  ConfigTestDir dir;
  dir.mkdir("a-directory");
  const std::string path = dir.write("config", R"(current-context: missing
clusters:
- {name: missing, cluster: {server: "https://k.test", certificate-authority: nowhere/ca.crt}}
- {name: dir, cluster: {server: "https://k.test", certificate-authority: a-directory}}
- {name: ok, cluster: {server: "https://k.test"}}
users:
- {name: cert, user: {client-certificate: client.crt, client-key: client.key}}
- {name: tokenfile, user: {tokenFile: /nonexistent/token}}
contexts:
- {name: missing, context: {cluster: missing}}
- {name: dir, context: {cluster: dir}}
- {name: cert, context: {cluster: ok, user: cert}}
- {name: tokenfile, context: {cluster: ok, user: tokenfile}}
)");
  CHECK(expect_error(load_kubeconfig(path, "missing")) ==
        "certificate-authority " + dir.file("nowhere/ca.crt") +
            " (\"nowhere/ca.crt\" relative to the kubeconfig's directory) of cluster \"missing\" in kubeconfig " +
            path + " cannot be read: No such file or directory");
  CHECK_THAT(expect_error(load_kubeconfig(path, "dir")),
             Contains("certificate-authority " + dir.file("a-directory")) && Contains("Is a directory"));
  CHECK_THAT(expect_error(load_kubeconfig(path, "cert")),
             Contains("client-certificate " + dir.file("client.crt")) && Contains("of user \"cert\"") &&
                 Contains("No such file or directory"));
  dir.write("client.crt", kCertPem);
  CHECK_THAT(expect_error(load_kubeconfig(path, "cert")),
             Contains("client-key " + dir.file("client.key")) && Contains("cannot be read"));
  CHECK(expect_error(load_kubeconfig(path, "tokenfile")) ==
        "tokenFile /nonexistent/token of user \"tokenfile\" in kubeconfig " + path +
            " cannot be read: No such file or directory");

  SECTION("the kubeconfig itself") {
    const std::string missing = dir.file("no-such-config");
    CHECK(expect_error(load_kubeconfig(missing, "")) ==
          "cannot read kubeconfig " + missing + ": No such file or directory");
    CHECK(expect_error(load_kubeconfig("", "")) == "no kubeconfig path given");
  }
}

TEST_CASE("A client certificate without a key, or both a file and data, is refused", "[kubeconfig]") {
  ConfigTestDir dir;
  dir.write("client.crt", kCertPem);
  dir.write("client.key", kKeyPem);
  dir.write("ca.crt", kCaPem);
  const std::string path = dir.write("config", R"(current-context: c
clusters:
- {name: k, cluster: {server: "https://k.test"}}
- {name: twice, cluster: {server: "https://k.test", certificate-authority: ca.crt, certificate-authority-data: Q0E=}}
users:
- {name: cert-only, user: {client-certificate: client.crt}}
- {name: key-only, user: {client-key-data: )" + certsync::base64_encode(kKeyPem) + R"(}}
- {name: two-keys, user: {client-certificate: client.crt, client-key: client.key, client-key-data: S0VZ}}
contexts:
- {name: c, context: {cluster: k, user: cert-only}}
- {name: k, context: {cluster: k, user: key-only}}
- {name: t, context: {cluster: k, user: two-keys}}
- {name: ca, context: {cluster: twice}}
)");
  CHECK(expect_error(load_kubeconfig(path, "c")) ==
        "user \"cert-only\" in kubeconfig " + path + " has a client certificate but no client-key or client-key-data");
  CHECK(expect_error(load_kubeconfig(path, "k")) ==
        "user \"key-only\" in kubeconfig " + path +
            " has a client key but no client-certificate or client-certificate-data");
  CHECK(expect_error(load_kubeconfig(path, "t")) ==
        "user \"two-keys\" in kubeconfig " + path + " sets both client-key and client-key-data; keep one");
  CHECK(expect_error(load_kubeconfig(path, "ca")) ==
        "cluster \"twice\" in kubeconfig " + path +
            " sets both certificate-authority and certificate-authority-data; keep one");
}

TEST_CASE("Error messages never contain the token or key text", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::string key_data = certsync::base64_encode(kKeyPem);
  const std::string user = "  user:\n    token: " + kToken + "\n    client-key-data: " + key_data + "\n";
  const std::string context = "contexts: [{name: c, context: {cluster: k, user: u}}]\n";
  const std::string cluster = "clusters: [{name: k, cluster: {server: \"https://k.test\"}}]\n";
  const std::vector<std::string> documents = {
      // No client certificate for the key.
      "current-context: c\n" + cluster + "users:\n- name: u\n" + user + context,
      // Exec next to a token.
      "current-context: c\n" + cluster + "users:\n- name: u\n" + user + "    exec: {command: x}\n" + context,
      // Server missing while the user holds secrets.
      "current-context: c\nclusters: [{name: k, cluster: {}}]\nusers:\n- name: u\n" + user + context,
      // Malformed YAML right after the secrets.
      "current-context: c\n" + cluster + "users:\n- name: u\n" + user + "    bad: [\n" + context,
      "current-context: c\n" + cluster + "users:\n- name: u\n  user:\n    token: \"" + kToken + "\n",
      // A token of the wrong type, a key that is not base64, a token file that is missing.
      "current-context: c\n" + cluster + "users:\n- name: u\n  user:\n    token: [" + kToken + "]\n" + context,
      "current-context: c\n" + cluster + "users:\n- name: u\n  user:\n    client-certificate-data: Q0E=\n"
          "    client-key-data: \"" + kKeyPem.substr(0, 40) + "\"\n" + context,
      "current-context: c\n" + cluster + "users:\n- name: u\n  user:\n    token: " + kToken +
          "\n    tokenFile: missing\n" + context,
      // An unknown context.
      "current-context: other\n" + cluster + "users:\n- name: u\n" + user + context,
  };
  for (size_t i = 0; i < documents.size(); ++i) {
    const std::string path = dir.write("config-" + std::to_string(i), documents[i]);
    const std::string error = expect_error(load_kubeconfig(path, ""));
    INFO("document " << i << ": " << error);
    CHECK_THAT(error, !Contains(kToken));
    CHECK_THAT(error, !Contains(kKeyBody));
    CHECK_THAT(error, !Contains(key_data.substr(0, 24)));
    CHECK_THAT(error, !Contains("PRIVATE KEY"));
  }
}

TEST_CASE("A kubeconfig of odd shapes gives an error, never an exception", "[kubeconfig]") {
  ConfigTestDir dir;
  const std::vector<std::string> documents = {
      "plain scalar",
      "~",
      "current-context: [a]",
      "current-context: c\ncontexts: [a, b]",
      "current-context: c\ncontexts: [{name: c, context: [x]}]",
      "current-context: c\ncontexts: [{name: {x: y}}]",
      "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: [{name: k, cluster: 7}]",
      "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
      "clusters: [{name: k, cluster: {server: https://k}}]\nusers: [{name: u, user: {token: {a: b}}}]",
      "&a [*a]",
      std::string(5000, '[') + std::string(5000, ']'),
      "key: \"\\xZZ\"",
      std::string("a: b\0c: d", 9),
  };
  for (size_t i = 0; i < documents.size(); ++i) {
    const std::string path = dir.write("odd-" + std::to_string(i), documents[i]);
    ConnectionResult result;
    REQUIRE_NOTHROW(result = load_kubeconfig(path, ""));
    INFO("document " << i);
    CHECK(std::holds_alternative<std::string>(result));
  }
}
