// The per-Secret validation options (kube/secret_validation.h), as the watcher
// and the certsync CLI both build them.
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "kube/secret_validation.h"
#include "tls/reasons.h"
#include "tls_test_certs.h"

using certsync::kube::Secret;
using certsync::kube::split_server_names;
using certsync::kube::validation_options_for;
using certsync::kube::WatchOptions;
using Names = std::vector<std::string>;

namespace {

Secret secret_with(std::string ca_crt, std::string server_names) {
  Secret secret;
  secret.namespace_name = "web";
  secret.name = "site-tls";
  secret.has_tls_keys = true;
  secret.ca_crt = std::move(ca_crt);
  secret.server_names_annotation = std::move(server_names);
  return secret;
}

}  // namespace

TEST_CASE("the server-names annotation splits on commas, items trimmed of blanks and tabs", "[secret_validation]") {
  const Secret secret = secret_with("", " a.example.com,\tb.example.com , c.example.com\t");
  CHECK(validation_options_for(secret, WatchOptions{}).sni_override ==
        Names{"a.example.com", "b.example.com", "c.example.com"});
  CHECK(split_server_names("a.example.com,b.example.com") == Names{"a.example.com", "b.example.com"});
}

TEST_CASE("empty items of the server-names annotation are dropped", "[secret_validation]") {
  CHECK(validation_options_for(secret_with("", ",a.example.com,, ,\t,b.example.com,"), WatchOptions{}).sni_override ==
        Names{"a.example.com", "b.example.com"});
  CHECK(validation_options_for(secret_with("", " , ,"), WatchOptions{}).sni_override.empty());
  CHECK(validation_options_for(secret_with("", ""), WatchOptions{}).sni_override.empty());
}

TEST_CASE("whitespace inside an item does not separate names", "[secret_validation]") {
  // README: certsync.io/server-names: "a.example.com,b.example.com". A blank
  // is not a separator, so a space-separated list stays one name and is refused
  // as malformed instead of being read as two.
  CHECK(split_server_names("a.example.com b.example.com") == Names{"a.example.com b.example.com"});
  CHECK(split_server_names("api.example.com,bad name.example.com") ==
        Names{"api.example.com", "bad name.example.com"});

  using namespace certsync::testing;
  CertSpec spec;
  spec.dns_names = {"*.example.com"};
  const TestKey& key = TestKey::shared(KeyKind::kEcP256);
  const TestCert cert = TestCert::issue(spec, key);
  const Secret secret = secret_with("", "a.example.com b.example.com");
  const std::string cert_pem = cert.pem();
  const std::string key_pem = key.pkcs8_pem();
  auto result = certsync::tls::validate_bundle(cert_pem, key_pem, validation_options_for(secret, WatchOptions{}));
  const auto* refusal = std::get_if<certsync::tls::Refusal>(&result);
  REQUIRE(refusal != nullptr);
  CHECK(refusal->code == certsync::tls::reason::kSniOverrideInvalid);
}

TEST_CASE("the server-names annotation is ignored when honour_server_names_annotation is false",
          "[secret_validation]") {
  WatchOptions options;
  options.honour_server_names_annotation = false;
  const Secret secret = secret_with("", "a.example.com,b.example.com");
  CHECK(validation_options_for(secret, options).sni_override.empty());
  CHECK(validation_options_for("", "a.example.com", options).sni_override.empty());
}

TEST_CASE("ca.crt is passed as the Secret holds it, the node-wide options are kept", "[secret_validation]") {
  WatchOptions options;
  options.validation.clock_skew_seconds = 42;
  options.validation.cn_fallback = true;
  options.validation.verify_chain = true;
  options.validation.reorder_chain = true;
  const Secret secret = secret_with("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n", "");
  const auto validation = validation_options_for(secret, options);
  CHECK(validation.ca_pem == secret.ca_crt);
  CHECK(validation.ca_pem.data() == secret.ca_crt.data());  // a view of the Secret's, no copy
  CHECK(validation.clock_skew_seconds == 42);
  CHECK(validation.cn_fallback);
  CHECK(validation.verify_chain);
  CHECK(validation.reorder_chain);
  CHECK(validation.sni_override.empty());

  CHECK(validation_options_for(secret_with("", ""), options).ca_pem.empty());
  const std::string ca = "ca text";
  CHECK(validation_options_for(ca, "", options).ca_pem.data() == ca.data());
}

TEST_CASE("the temporary-certificate annotation is not passed on", "[secret_validation]") {
  // It can outlive the placeholder on a Secret; the issuer identifies it instead.
  Secret secret = secret_with("", "");
  secret.temporary_annotation = true;
  CHECK_FALSE(validation_options_for(secret, WatchOptions{}).temporary_certificate_annotation);
}
