// chain_incomplete and complete_chain: a tls.crt that lacks its leaf's issuer
// is served but flagged, and completed from ca.crt when asked.
#include <catch2/catch.hpp>

#include <string>

#include "tls/validate.h"
#include "tls_test_certs.h"

using namespace certsync::testing;
using certsync::tls::describe_chain;
using certsync::tls::ValidationOptions;
using certsync::tls::ValidBundle;

namespace {

CertSpec leaf_spec() {
  CertSpec spec;
  spec.common_name = "shop.example.test";
  spec.dns_names = {"shop.example.test"};
  return spec;
}

ValidBundle accepted(const std::string& crt, const std::string& key, const ValidationOptions& options) {
  auto result = certsync::tls::validate_bundle(crt, key, options);
  if (const auto* refusal = std::get_if<certsync::tls::Refusal>(&result)) {
    FAIL(refusal->code << ": " << refusal->message);
  }
  return std::get<ValidBundle>(std::move(result));
}

size_t certificates_in(const std::string& pem) {
  size_t n = 0;
  for (size_t at = 0; (at = pem.find("BEGIN CERTIFICATE", at)) != std::string::npos; ++at) ++n;
  return n;
}

}  // namespace

TEST_CASE("a leaf sent with its intermediate is complete", "[tls][chain]") {
  const TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const ValidBundle b = accepted(pki.leaf.pem() + pki.intermediate.pem(), pki.leaf_key.pkcs8_pem(), {});
  CHECK_FALSE(b.chain_incomplete);
  CHECK(b.chain_completed == 0);
  CHECK(describe_chain(b).empty());
}

TEST_CASE("a leaf sent without its intermediate is served, flagged chain_incomplete, naming the issuer",
          "[tls][chain]") {
  const TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const ValidBundle b = accepted(pki.leaf.pem(), pki.leaf_key.pkcs8_pem(), {});
  CHECK(b.chain_incomplete);
  CHECK(b.chain_missing_issuer == "CN=certsync test intermediate");
  CHECK(b.chain_completable == 0);
  CHECK(b.chain_length == 1);
  const std::string text = describe_chain(b);
  CHECK(text.find("CN=certsync test intermediate") != std::string::npos);
  CHECK(text.find("ca.crt does not hold it") != std::string::npos);
}

TEST_CASE("without complete_chain an intermediate in ca.crt is named but not appended", "[tls][chain]") {
  const TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const std::string ca = pki.intermediate.pem() + pki.root.pem();
  ValidationOptions options;
  options.ca_pem = ca;
  const ValidBundle b = accepted(pki.leaf.pem(), pki.leaf_key.pkcs8_pem(), options);
  CHECK(b.chain_incomplete);
  CHECK(b.chain_completable == 1);
  CHECK(b.chain_length == 1);
  CHECK(certificates_in(b.cert_pem) == 1);
  CHECK(describe_chain(b).find("complete_chain = true appends it") != std::string::npos);
}

TEST_CASE("complete_chain appends the intermediates ca.crt holds, never the root", "[tls][chain]") {
  const TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  const std::string ca = pki.root.pem() + pki.intermediate.pem();  // any order
  ValidationOptions options;
  options.ca_pem = ca;
  options.complete_chain = true;
  SECTION("without verify_chain") {}
  SECTION("with verify_chain, the completed chain verifies to the root") { options.verify_chain = true; }
  const ValidBundle b = accepted(pki.leaf.pem(), pki.leaf_key.pkcs8_pem(), options);
  CHECK_FALSE(b.chain_incomplete);
  CHECK(b.chain_missing_issuer.empty());
  CHECK(b.chain_completed == 1);
  CHECK(b.chain_length == 2);
  CHECK(b.cert_pem == pki.leaf.pem() + pki.intermediate.pem());
  CHECK(describe_chain(b).find("1 intermediate from ca.crt appended") != std::string::npos);
}

TEST_CASE("complete_chain with no intermediate in ca.crt leaves the chain flagged", "[tls][chain]") {
  const TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  ValidationOptions options;
  options.complete_chain = true;
  const ValidBundle b = accepted(pki.leaf.pem(), pki.leaf_key.pkcs8_pem(), options);
  CHECK(b.chain_incomplete);
  CHECK(b.chain_completed == 0);
}

TEST_CASE("a leaf issued by a root that ca.crt holds is complete: clients bring their own roots", "[tls][chain]") {
  const TestKey& root_key = TestKey::shared(KeyKind::kEcP256, 100);
  CertSpec root_spec;
  root_spec.common_name = "certsync private root";
  root_spec.ca = true;
  const TestCert root = TestCert::issue(root_spec, root_key);
  const TestKey& leaf_key = TestKey::shared(KeyKind::kEcP256, 0);
  const TestCert leaf = TestCert::issue(leaf_spec(), leaf_key, &root, &root_key);
  const std::string ca = root.pem();
  ValidationOptions options;
  options.ca_pem = ca;
  options.complete_chain = true;
  const ValidBundle b = accepted(leaf.pem(), leaf_key.pkcs8_pem(), options);
  CHECK_FALSE(b.chain_incomplete);
  CHECK(b.chain_completed == 0);
  CHECK(b.chain_length == 1);
}

TEST_CASE("a self-signed leaf is not an incomplete chain", "[tls][chain]") {
  const TestKey& key = TestKey::shared(KeyKind::kEcP256, 0);
  const TestCert leaf = TestCert::issue(leaf_spec(), key);
  const ValidBundle b = accepted(leaf.pem(), key.pkcs8_pem(), {});
  CHECK_FALSE(b.chain_incomplete);
}

TEST_CASE("an unreadable ca.crt does not refuse a bundle when verify_chain is off", "[tls][chain]") {
  const TestPki pki = TestPki::make(KeyKind::kEcP256, leaf_spec());
  ValidationOptions options;
  options.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  options.complete_chain = true;
  const ValidBundle b = accepted(pki.leaf.pem(), pki.leaf_key.pkcs8_pem(), options);
  CHECK(b.chain_incomplete);
  CHECK(b.chain_completable == 0);
}
