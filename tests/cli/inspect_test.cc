// certsync inspect against the project's Kubernetes API test server.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "cli_fixture.h"
#include "cli_process.h"
#include "util/base64.h"

using namespace certsync::testing;

namespace {

std::string token_of(const TestServerProcess& server) {
  std::ifstream file(server.token_file());
  std::string token;
  std::getline(file, token);
  return token;
}

}  // namespace

TEST_CASE("inspect: a live Secret is fetched and judged - accepted (0) or refused (1) or absent (5)") {
  TestServerProcess server;
  const std::string kubeconfig = kubeconfig_of(server);
  const PemPair good = make_pair({"web.example.com"});
  const PemPair other = make_pair({"web.example.com"});
  REQUIRE(server.put_tls_secret("default", "web", good.cert, good.key) / 100 == 2);
  REQUIRE(server.put_tls_secret("shop", "broken", good.cert, other.key) / 100 == 2);

  const CliRun accepted = run_cli({"inspect", "--kubeconfig", kubeconfig, "web"});  // the context's namespace
  INFO(accepted.out << accepted.err);
  CHECK(accepted.exit_code == 0);
  CHECK(accepted.out.find("default/web") != std::string::npos);
  CHECK(accepted.out.find("verdict     accepted") != std::string::npos);

  const CliRun json = run_cli({"inspect", "--kubeconfig", kubeconfig, "-n", "default", "web", "--json"});
  CHECK(json.exit_code == 0);
  const auto doc = parse_json(json.out);
  CHECK(doc["verdict"] == "accepted");
  CHECK(doc["secret"]["namespace"] == "default");
  CHECK(doc["secret"]["name"] == "web");
  CHECK(!doc["secret"]["resource_version"].get<std::string>().empty());
  CHECK(doc["certificate"]["snis"] == nlohmann::json({"web.example.com"}));

  const CliRun refused = run_cli({"inspect", "--kubeconfig", kubeconfig, "-n", "shop", "broken", "--json"});
  CHECK(refused.exit_code == 1);
  CHECK(parse_json(refused.out)["refusal"]["code"] == "key_mismatch");

  const CliRun absent = run_cli({"inspect", "--kubeconfig", kubeconfig, "-n", "default", "nothere"});
  CHECK(absent.exit_code == 5);
  CHECK(absent.err.find("not found") != std::string::npos);
  CHECK(absent.err.find("\"nothere\"") != std::string::npos);

  // A Secret without tls.crt and tls.key is nothing certsync would serve: also 5.
  REQUIRE(server.post_json("/api/v1/namespaces/default/secrets",
                           R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"plain"},"data":{"a":"Yg=="}})") ==
          201);
  const CliRun plain = run_cli({"inspect", "--kubeconfig", kubeconfig, "plain", "--json"});
  CHECK(plain.exit_code == 5);
  CHECK(parse_json(plain.out)["result"] == "not_found");

  const std::string everything = accepted.out + accepted.err + json.out + json.err + refused.out + refused.err;
  require_no_secret(everything, good.key, token_of(server));
  require_no_secret(everything, other.key);
}

TEST_CASE("inspect: API errors exit 4 (unreachable) naming the verb and resource and namespace") {
  TestServerProcess server;
  TempDir dir;
  const std::string kubeconfig = kubeconfig_of(server);
  const PemPair good = make_pair({"web.example.com"});
  REQUIRE(server.put_tls_secret("default", "web", good.cert, good.key) / 100 == 2);

  server.add_fault(R"({"verb":"get","status":403})");
  const CliRun forbidden = run_cli({"inspect", "--kubeconfig", kubeconfig, "web"});
  INFO(forbidden.err);
  CHECK(forbidden.exit_code == 4);
  CHECK(forbidden.err.find("403") != std::string::npos);
  CHECK(forbidden.err.find("needs \"get\" on \"secrets\" in namespace \"default\"") != std::string::npos);

  server.add_fault(R"({"verb":"get","status":401})");
  const CliRun unauthorized = run_cli({"inspect", "--kubeconfig", kubeconfig, "web", "--json"});
  CHECK(unauthorized.exit_code == 4);
  CHECK(parse_json(unauthorized.out)["error"].get<std::string>().find("401") != std::string::npos);

  ClosedPort closed;
  const std::string moved = kubeconfig_with_server(server, dir, "https://127.0.0.1:" + std::to_string(closed.port()));
  const CliRun down = run_cli({"inspect", "--kubeconfig", moved, "web"});
  CHECK(down.exit_code == 4);
  CHECK(down.err.find("cannot reach the API server") != std::string::npos);

  require_no_secret(forbidden.err + unauthorized.out + down.err, good.key, token_of(server));
}

TEST_CASE("inspect: kubeconfig sources as kubectl finds them and exec users are refused (exit 6)") {
  TestServerProcess server;
  TempDir dir;
  const PemPair good = make_pair({"web.example.com"});
  REQUIRE(server.put_tls_secret("default", "web", good.cert, good.key) / 100 == 2);

  // $KUBECONFIG, as kubectl reads it (a list: the first existing file).
  const CliRun from_env = run_cli({"inspect", "web"}, {{"KUBECONFIG", dir.path() + "/none:" + kubeconfig_of(server)}});
  INFO(from_env.err);
  CHECK(from_env.exit_code == 0);
  // ~/.kube/config when KUBECONFIG is unset.
  REQUIRE(system(("mkdir -p '" + dir.path() + "/.kube' && cp '" + kubeconfig_of(server) + "' '" + dir.path() +
                  "/.kube/config'")
                     .c_str()) == 0);
  CHECK(run_cli({"inspect", "web"}, {{"KUBECONFIG", ""}, {"HOME", dir.path()}}).exit_code == 0);

  // A client certificate user (tokenFile for the test server, which does not
  // authenticate certificates): the certificate and key must load and be sent.
  const PemPair client = make_pair({"client.example.com"});
  const std::string with_certificate = kubeconfig_with_user(
      server, dir,
      "    client-certificate-data: " + certsync::base64_encode(client.cert) +
          "\n    client-key-data: " + certsync::base64_encode(client.key) + "\n    tokenFile: " + server.token_file() + "\n");
  const CliRun certificate_user = run_cli({"inspect", "--kubeconfig", with_certificate, "web"});
  INFO(certificate_user.err);
  CHECK(certificate_user.exit_code == 0);
  require_no_secret(certificate_user.out + certificate_user.err, client.key);

  const std::string exec = kubeconfig_with_user(
      server, dir, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws-iam-authenticator\n");
  const CliRun refused = run_cli({"inspect", "--kubeconfig", exec, "web"});
  CHECK(refused.exit_code == 6);
  CHECK(refused.err.find("exec") != std::string::npos);

  CHECK(run_cli({"inspect", "web"}, {{"KUBECONFIG", ""}, {"HOME", dir.path() + "/nowhere"},
                                      {"KUBERNETES_SERVICE_HOST", ""}})
            .exit_code == 6);
  CHECK(run_cli({"inspect", "--kubeconfig", kubeconfig_of(server), "--context", "nope", "web"}).exit_code == 6);
}

TEST_CASE("inspect: a bad command line is a usage error (exit 2)") {
  CHECK(run_cli({"inspect"}).exit_code == 2);
  CHECK(run_cli({"inspect", "a", "b"}).exit_code == 2);
  CHECK(run_cli({"inspect", "-n", "Bad_Namespace", "web"}).exit_code == 2);
  CHECK(run_cli({"inspect", "../secret"}).exit_code == 2);
  CHECK(run_cli({"inspect", "--in-cluster", "--kubeconfig", "x", "web"}).exit_code == 2);
}

TEST_CASE("inspect: the cert-manager Certificate that writes the Secret is shown beside it, or why it is not") {
  TestServerProcess::Options options;
  options.cert_manager = "served";
  TestServerProcess server(options);
  const std::string kubeconfig = kubeconfig_of(server);
  const PemPair good = make_pair({"web.example.com"});
  REQUIRE(server.put_tls_secret("default", "web", good.cert, good.key) / 100 == 2);
  REQUIRE(server.put_tls_secret("default", "plain", good.cert, good.key) / 100 == 2);
  nlohmann::json certificate = {
      {"apiVersion", "cert-manager.io/v1"},
      {"kind", "Certificate"},
      {"metadata", {{"name", "web"}, {"namespace", "default"}}},
      {"spec", {{"secretName", "web"}, {"issuerRef", {{"name", "ca"}, {"kind", "ClusterIssuer"}}}}}};
  REQUIRE(server.post_json("/apis/cert-manager.io/v1/namespaces/default/certificates", certificate.dump()) == 201);
  certificate["status"] = {
      {"conditions",
       {{{"type", "Ready"}, {"status", "False"}, {"reason", "Failed"}, {"message", "the ACME order failed"}}}},
      {"renewalTime", "2020-01-01T00:00:00Z"},
      {"notAfter", "2020-02-01T00:00:00Z"},
      {"revision", 3}};
  REQUIRE(server.put_json("/apis/cert-manager.io/v1/namespaces/default/certificates/web/status",
                          certificate.dump()) == 200);

  const CliRun human = run_cli({"inspect", "--kubeconfig", kubeconfig, "web"});
  INFO(human.out << human.err);
  CHECK(human.exit_code == 0);  // the Secret's verdict decides, not the Certificate
  CHECK(human.out.find("certificate   default/web (cert-manager, issuer ClusterIssuer/ca, revision 3)") !=
        std::string::npos);
  CHECK(human.out.find("ready         False (Failed): the ACME order failed") != std::string::npos);
  CHECK(human.out.find("OVERDUE") != std::string::npos);

  const auto doc = parse_json(run_cli({"inspect", "--kubeconfig", kubeconfig, "web", "--json"}).out);
  REQUIRE(doc["cert_manager"]["certificates"].size() == 1);
  CHECK(doc["cert_manager"]["certificates"][0]["id"] == "default/web");
  CHECK(doc["cert_manager"]["certificates"][0]["renewal_overdue"] == true);
  CHECK(doc["verdict"] == "accepted");

  const CliRun none = run_cli({"inspect", "--kubeconfig", kubeconfig, "plain"});
  CHECK(none.out.find("none (no cert-manager Certificate names this Secret)") != std::string::npos);

  REQUIRE(server.post_json("/testing/cert-manager", R"({"mode":"forbidden"})") == 200);
  const CliRun forbidden = run_cli({"inspect", "--kubeconfig", kubeconfig, "web"});
  CHECK(forbidden.exit_code == 0);
  CHECK(forbidden.out.find("unknown: RBAC does not allow list on certificates.cert-manager.io in namespace default") !=
        std::string::npos);
  // Without the CRD there is nothing to say to people who do not use cert-manager, but in --json.
  REQUIRE(server.post_json("/testing/cert-manager", R"({"mode":"absent"})") == 200);
  const CliRun absent = run_cli({"inspect", "--kubeconfig", kubeconfig, "web"});
  CHECK(absent.exit_code == 0);
  CHECK(absent.out.find("\ncertificate ") == std::string::npos);
  CHECK(parse_json(run_cli({"inspect", "--kubeconfig", kubeconfig, "web", "--json"}).out)["cert_manager"]["note"] ==
        "cert-manager's Certificate CRD is not installed (HTTP 404)");
}
