// certsync probe against a real `openssl s_server` on loopback.
#include <catch2/catch.hpp>

#include <regex>

#include "cli_fixture.h"
#include "cli_process.h"

using namespace certsync::testing;

namespace {

// openssl s_server serving `pair` on an ephemeral loopback port.
class TlsServer {
 public:
  TlsServer(const TempDir& dir, const PemPair& pair)
      : process_(dir.path(), "s_server",
                 {OPENSSL_PROGRAM, "s_server", "-accept", "127.0.0.1:0", "-cert", dir.write("served.crt", pair.cert),
                  "-key", dir.write("served.key", pair.key), "-www"}) {
    // It prints "ACCEPT 127.0.0.1:PORT" once it listens.
    std::smatch match;
    const std::regex accept("ACCEPT [^\\n]*:([0-9]+)");
    REQUIRE(process_.wait_for_out([&](const std::string& out) { return std::regex_search(out, accept); }));
    const std::string out = process_.out();
    std::regex_search(out, match, accept);
    endpoint_ = "127.0.0.1:" + match[1].str();
  }
  const std::string& endpoint() const { return endpoint_; }

 private:
  BackgroundProcess process_;
  std::string endpoint_;
};

}  // namespace

TEST_CASE("probe: the served leaf matches the Secret's (0) or not (3)") {
  TestServerProcess server;
  TempDir dir;
  const PemPair served = make_pair({"web.example.com"});
  const PemPair renewed = make_pair({"web.example.com"});
  TlsServer tls(dir, served);
  REQUIRE(server.put_tls_secret("default", "web", served.cert, served.key) / 100 == 2);
  REQUIRE(server.put_tls_secret("default", "renewed", renewed.cert, renewed.key) / 100 == 2);
  const std::string kubeconfig = kubeconfig_of(server);

  const CliRun match = run_cli({"probe", tls.endpoint(), "--sni", "web.example.com", "--expect-secret", "default/web",
                                "--kubeconfig", kubeconfig});
  INFO(match.out << match.err);
  CHECK(match.exit_code == 0);
  CHECK(match.out.find("MATCH") != std::string::npos);
  CHECK(match.out.find("DNS:web.example.com") != std::string::npos);

  const CliRun mismatch = run_cli({"probe", tls.endpoint(), "--sni", "web.example.com", "--expect-secret",
                                   "default/renewed", "--kubeconfig", kubeconfig, "--json"});
  CHECK(mismatch.exit_code == 3);
  const auto doc = parse_json(mismatch.out);
  CHECK(doc["result"] == "mismatch");
  CHECK(doc["match"] == false);
  CHECK(doc["served"]["fingerprint_sha256"] != doc["secret"]["certificate"]["fingerprint_sha256"]);
  CHECK(doc["sni"] == "web.example.com");

  // The Secret's current version refused: the plugin serves the last good one, nothing to compare.
  REQUIRE(server.put_tls_secret("default", "renewed", renewed.cert, served.key) / 100 == 2);
  const CliRun refused = run_cli({"probe", tls.endpoint(), "--sni", "web.example.com", "--expect-secret",
                                  "default/renewed", "--kubeconfig", kubeconfig, "--json"});
  CHECK(refused.exit_code == 1);
  CHECK(parse_json(refused.out)["secret"]["refusal"]["code"] == "key_mismatch");

  const CliRun absent = run_cli({"probe", tls.endpoint(), "--sni", "web.example.com", "--expect-secret",
                                 "default/absent", "--kubeconfig", kubeconfig});
  CHECK(absent.exit_code == 5);

  const std::string everything = match.out + match.err + mismatch.out + mismatch.err + refused.out + refused.err;
  require_no_secret(everything, served.key);
  require_no_secret(everything, renewed.key);
}

TEST_CASE("probe: verification against --ca is reported and enforced only with --require-verified") {
  TempDir dir;
  const PemPair served = make_pair({"web.example.com"});
  TlsServer tls(dir, served);
  const std::string own_ca = dir.write("own.crt", served.cert);  // self-signed: its own anchor
  const std::string other_ca = dir.write("other.crt", make_pair({"ca.example.com"}).cert);

  const CliRun verified = run_cli({"probe", tls.endpoint(), "--sni", "web.example.com", "--ca", own_ca, "--json"});
  INFO(verified.out << verified.err);
  CHECK(verified.exit_code == 0);
  CHECK(parse_json(verified.out)["verification"]["verified"] == true);

  const CliRun wrong_name = run_cli({"probe", tls.endpoint(), "--sni", "other.example.com", "--ca", own_ca, "--json"});
  CHECK(wrong_name.exit_code == 0);  // reported, not required
  CHECK(parse_json(wrong_name.out)["verification"]["verified"] == false);

  const CliRun untrusted = run_cli({"probe", tls.endpoint(), "--sni", "web.example.com", "--ca", other_ca});
  CHECK(untrusted.exit_code == 0);
  CHECK(untrusted.out.find("verified    NO") != std::string::npos);
  const CliRun required = run_cli(
      {"probe", tls.endpoint(), "--sni", "web.example.com", "--ca", other_ca, "--require-verified"});
  CHECK(required.exit_code == 3);
  require_no_secret(verified.out + untrusted.out + required.out, served.key);
}

TEST_CASE("probe: a closed port is unreachable (4) and a bad endpoint is a usage error (2)") {
  ClosedPort closed;
  const std::string endpoint = "127.0.0.1:" + std::to_string(closed.port());
  const CliRun down = run_cli({"probe", endpoint, "--sni", "web.example.com"});
  CHECK(down.exit_code == 4);
  CHECK(down.err.find("cannot connect") != std::string::npos);
  const CliRun json = run_cli({"probe", endpoint, "--sni", "web.example.com", "--json"});
  CHECK(json.exit_code == 4);
  CHECK(parse_json(json.out)["result"] == "unreachable");

  CHECK(run_cli({"probe", "127.0.0.1", "--sni", "web.example.com"}).exit_code == 2);    // no port
  CHECK(run_cli({"probe", "127.0.0.1:99999", "--sni", "web.example.com"}).exit_code == 2);
  CHECK(run_cli({"probe", endpoint}).exit_code == 2);  // an IP address needs --sni
  CHECK(run_cli({"probe", endpoint, "--sni", "a.example.com", "--expect-secret", "no-slash"}).exit_code == 2);
  CHECK(run_cli({"probe", endpoint, "--sni", "a.example.com", "--require-verified"}).exit_code == 2);
}
