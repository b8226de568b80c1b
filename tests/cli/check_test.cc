// certsync check: the verdict on PEM files, and its exit codes.
#include <catch2/catch.hpp>

#include "cli_fixture.h"
#include "cli_process.h"

using namespace certsync::testing;

TEST_CASE("check: an intact pair is accepted (exit 0) with names and dates and fingerprint and serial") {
  TempDir dir;
  const PemPair pair = make_pair({"web.example.com", "www.example.com"});
  const std::string cert = dir.write("tls.crt", pair.cert);
  const std::string key = dir.write("tls.key", pair.key);

  const CliRun human = run_cli({"check", "--cert", cert, "--key", key});
  INFO(human.out << human.err);
  CHECK(human.exit_code == 0);
  CHECK(human.out.find("verdict     accepted") != std::string::npos);
  CHECK(human.out.find("web.example.com, www.example.com") != std::string::npos);
  require_no_secret(human.out + human.err, pair.key);

  const CliRun json = run_cli({"check", "--cert", cert, "--key", key, "--json"});
  CHECK(json.exit_code == 0);
  const auto doc = parse_json(json.out);
  CHECK(doc["verdict"] == "accepted");
  CHECK(doc["exit_code"] == 0);
  CHECK(doc["certificate"]["snis"] == nlohmann::json({"web.example.com", "www.example.com"}));
  CHECK(doc["certificate"]["key_type"] == "EC-P-256");
  CHECK(doc["certificate"]["fingerprint_sha256"].get<std::string>().size() == 64);
  CHECK(!doc["certificate"]["serial"].get<std::string>().empty());
  // RFC 3339, UTC.
  CHECK(doc["certificate"]["not_after"].get<std::string>().size() == 20);
  CHECK(doc["certificate"]["not_after"].get<std::string>().back() == 'Z');
  require_no_secret(json.out + json.err, pair.key);
}

TEST_CASE("check: a key that is not the leaf's is refused with key_mismatch (exit 1)") {
  TempDir dir;
  const PemPair pair = make_pair({"web.example.com"});
  const PemPair other = make_pair({"web.example.com"});
  const std::string cert = dir.write("tls.crt", pair.cert);
  const std::string key = dir.write("tls.key", other.key);

  const CliRun human = run_cli({"check", "--cert", cert, "--key", key});
  INFO(human.out << human.err);
  CHECK(human.exit_code == 1);
  CHECK(human.out.find("refused: key_mismatch") != std::string::npos);

  const CliRun json = run_cli({"check", "--json", "--cert", cert, "--key", key});
  CHECK(json.exit_code == 1);
  const auto doc = parse_json(json.out);
  CHECK(doc["verdict"] == "refused");
  CHECK(doc["refusal"]["code"] == "key_mismatch");
  CHECK(!doc.contains("certificate"));
  require_no_secret(json.out + json.err + human.out + human.err, other.key);
  require_no_secret(json.out + json.err + human.out + human.err, pair.key);
}

TEST_CASE("check: the server-names annotation and --ca are applied as the plugin applies them") {
  TempDir dir;
  const PemPair pair = make_pair({"*.example.com"});
  const std::string cert = dir.write("tls.crt", pair.cert);
  const std::string key = dir.write("tls.key", pair.key);

  const CliRun covered = run_cli({"check", "--cert", cert, "--key", key, "--server-names", "a.example.com", "--json"});
  CHECK(covered.exit_code == 0);
  CHECK(parse_json(covered.out)["certificate"]["snis"] == nlohmann::json({"a.example.com"}));

  const CliRun uncovered = run_cli({"check", "--cert", cert, "--key", key, "--server-names", "a.other.org", "--json"});
  CHECK(uncovered.exit_code == 1);
  CHECK(parse_json(uncovered.out)["refusal"]["code"] == "sni_override_not_covered");

  // A self-signed leaf is its own trust anchor; another certificate is not.
  const std::string other_ca = dir.write("other.crt", make_pair({"ca.example.com"}).cert);
  const CliRun reported = run_cli({"check", "--cert", cert, "--key", key, "--ca", other_ca, "--json"});
  CHECK(reported.exit_code == 0);  // the plugin enforces the chain only with verify_chain
  const auto doc = parse_json(reported.out);
  CHECK(doc["chain_to_ca"]["trusted"] == false);
  CHECK(doc["chain_to_ca"]["enforced"] == false);
  CHECK(doc["chain_to_ca"]["refusal"]["code"] == "chain_untrusted");

  const CliRun enforced = run_cli({"check", "--cert", cert, "--key", key, "--ca", other_ca, "--verify-chain", "--json"});
  CHECK(enforced.exit_code == 1);
  CHECK(parse_json(enforced.out)["refusal"]["code"] == "chain_untrusted");

  const CliRun trusted = run_cli({"check", "--cert", cert, "--key", key, "--ca", cert, "--verify-chain", "--json"});
  CHECK(trusted.exit_code == 0);
  CHECK(parse_json(trusted.out)["chain_to_ca"]["trusted"] == true);
}

TEST_CASE("check: a bad command line is a usage error (exit 2) and JSON with --json") {
  TempDir dir;
  const PemPair pair = make_pair({"web.example.com"});
  const std::string cert = dir.write("tls.crt", pair.cert);
  const std::string key = dir.write("tls.key", pair.key);

  const CliRun missing_key = run_cli({"check", "--cert", cert});
  CHECK(missing_key.exit_code == 2);
  CHECK(missing_key.err.find("--key is required") != std::string::npos);

  const CliRun unknown = run_cli({"check", "--cert", cert, "--key", key, "--frobnicate", "--json"});
  CHECK(unknown.exit_code == 2);
  const auto doc = parse_json(unknown.out);
  CHECK(doc["result"] == "usage");
  CHECK(doc["error"].get<std::string>().find("--frobnicate") != std::string::npos);

  CHECK(run_cli({"check", "--cert", cert, "--key", dir.path() + "/absent.key"}).exit_code == 2);
  CHECK(run_cli({"check", "--cert", cert, "--key", key, "--clock-skew-seconds", "soon"}).exit_code == 2);
  CHECK(run_cli({"frobnicate"}).exit_code == 2);
  CHECK(run_cli({}).exit_code == 2);

  const CliRun help = run_cli({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("Exit codes:") != std::string::npos);
  CHECK(run_cli({"check", "--help"}).exit_code == 0);
}

TEST_CASE("check: a leaf without its intermediate is flagged, and --complete-chain appends it from --ca") {
  TempDir dir;
  CertSpec spec;
  spec.common_name = "web.example.com";
  spec.dns_names = {"web.example.com"};
  const TestPki pki = TestPki::make(KeyKind::kEcP256, spec);
  const std::string cert = dir.write("tls.crt", pki.leaf.pem());
  const std::string key = dir.write("tls.key", pki.leaf_key.pkcs8_pem());
  const std::string ca = dir.write("ca.crt", pki.intermediate.pem() + pki.root.pem());

  const CliRun flagged = run_cli({"check", "--cert", cert, "--key", key, "--ca", ca});
  INFO(flagged.out << flagged.err);
  CHECK(flagged.exit_code == 0);  // served as it is
  CHECK(flagged.out.find("CHAIN INCOMPLETE") != std::string::npos);
  CHECK(flagged.out.find("CN=certsync test intermediate") != std::string::npos);

  const CliRun completed = run_cli({"check", "--json", "--complete-chain", "--cert", cert, "--key", key, "--ca", ca});
  INFO(completed.out << completed.err);
  CHECK(completed.exit_code == 0);
  const auto doc = parse_json(completed.out);
  CHECK(doc["certificate"]["chain_incomplete"] == false);
  CHECK(doc["certificate"]["chain_completed"] == 1);
  CHECK(doc["certificate"]["chain_length"] == 2);
  require_no_secret(flagged.out + flagged.err + completed.out + completed.err, pki.leaf_key.pkcs8_pem());
}
