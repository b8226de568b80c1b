// cert-manager Certificates: what certsync reads from one (certificate.h)
// and how the book of them follows lists, events and a resource that is
// not there (certificate_book.h).
#include <catch2/catch.hpp>

#include "certmanager/certificate.h"
#include "certmanager/certificate_book.h"

using certsync::certmanager::Certificate;
using certsync::certmanager::CertificateBook;
using certsync::certmanager::decode_certificate;
using certsync::certmanager::parse_rfc3339;

namespace {

nlohmann::json object(const std::string& ns, const std::string& name, const std::string& secret) {
  return {{"apiVersion", "cert-manager.io/v1"},
          {"kind", "Certificate"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", "7"}, {"generation", 3}}},
          {"spec", {{"secretName", secret}, {"issuerRef", {{"name", "letsencrypt"}, {"kind", "ClusterIssuer"}}}}}};
}

Certificate certificate(const std::string& ns, const std::string& name) {
  return std::get<Certificate>(decode_certificate(object(ns, name, name + "-tls")));
}

}  // namespace

TEST_CASE("RFC 3339 times as cert-manager writes them, fractions and offsets too", "[certificate]") {
  CHECK(parse_rfc3339("2026-04-01T00:00:00Z") == 1775001600);
  CHECK(parse_rfc3339("2026-04-01T00:00:00.123456Z") == 1775001600);
  CHECK(parse_rfc3339("2026-04-01T02:00:00+02:00") == 1775001600);
  CHECK_FALSE(parse_rfc3339("2026-04-01").has_value());
  CHECK_FALSE(parse_rfc3339("2026-04-01T00:00:00").has_value());
  CHECK_FALSE(parse_rfc3339("").has_value());
}

TEST_CASE("a Certificate's conditions and status times are read as cert-manager writes them", "[certificate]") {
  auto json = object("web", "app", "app-tls");
  json["status"] = {
      {"conditions",
       {{{"type", "Ready"}, {"status", "False"}, {"reason", "Failed"}, {"message", "order failed"},
         {"lastTransitionTime", "2026-03-03T10:00:00Z"}},
        {{"type", "Issuing"}, {"status", "False"}, {"reason", "Failed"}, {"message", "order failed"}},
        {{"type", "SomethingElse"}, {"status", "True"}}}},
      {"notBefore", "2026-01-01T00:00:00Z"},
      {"notAfter", "2026-04-01T00:00:00Z"},
      {"renewalTime", "2026-03-02T00:00:00Z"},
      {"lastFailureTime", "2026-03-03T10:00:00Z"},
      {"failedIssuanceAttempts", 2},
      {"revision", 4}};
  auto decoded = decode_certificate(json);
  REQUIRE(std::holds_alternative<Certificate>(decoded));
  const auto& c = std::get<Certificate>(decoded);
  CHECK(c.id() == "web/app");
  CHECK(c.secret_id() == "web/app-tls");
  CHECK(c.issuer == "ClusterIssuer/letsencrypt");
  CHECK(c.generation == 3);
  REQUIRE(c.ready);
  CHECK(c.ready->status == "False");
  CHECK(c.ready->reason == "Failed");
  CHECK(c.ready->last_transition_time == 1772532000);
  REQUIRE(c.issuing);
  CHECK(c.issuing->message == "order failed");
  CHECK(c.not_after == 1775001600);
  CHECK(c.renewal_time == 1772409600);
  CHECK(c.last_failure_time == 1772532000);
  CHECK(c.failed_issuance_attempts == 2);
  CHECK(c.revision == 4);
  const auto out = certsync::certmanager::to_json(c);
  CHECK(out["secret"] == "web/app-tls");
  CHECK(out["ready"]["reason"] == "Failed");
}

TEST_CASE("a Certificate cert-manager has not touched yet has no conditions and zero times", "[certificate]") {
  const auto c = certificate("web", "new");
  CHECK_FALSE(c.ready);
  CHECK_FALSE(c.issuing);
  CHECK(c.not_after == 0);
  CHECK(c.revision == 0);
  CHECK(certsync::certmanager::to_json(c).count("ready") == 0);
}

TEST_CASE("a Certificate without spec.secretName is refused, naming the field", "[certificate]") {
  auto json = object("web", "app", "");
  auto decoded = decode_certificate(json);
  REQUIRE(std::holds_alternative<std::string>(decoded));
  CHECK(std::get<std::string>(decoded) == "Certificate web/app: spec.secretName is missing");
}

TEST_CASE("the book replaces one namespace on a list, and says when its JSON changed", "[certificate]") {
  CertificateBook book(2);
  book.replace_all(0, "a", {certificate("a", "one"), certificate("a", "two")});
  book.replace_all(1, "b", {certificate("b", "three")});
  uint64_t version = 0;
  auto text = book.certificates_json(0, &version);
  REQUIRE(text);
  CHECK(nlohmann::json::parse(*text).size() == 3);
  CHECK(book.certificates_json(version, &version) == nullptr);  // unchanged: nothing to copy
  book.replace_all(0, "a", {certificate("a", "two")});
  text = book.certificates_json(version, &version);
  REQUIRE(text);
  const auto list = nlohmann::json::parse(*text);
  REQUIRE(list.size() == 2);
  CHECK(list[0]["id"] == "a/two");
  CHECK(list[1]["id"] == "b/three");
  book.remove("b/three");
  CHECK(book.size() == 1);
  CHECK(book.summary()["synced"] == true);
}

TEST_CASE("a resource that is not there is news once, not once per namespace", "[certificate]") {
  CertificateBook book(3);
  book.replace_all(0, "a", {certificate("a", "one")});
  const std::string missing = "the API server has no certificates.cert-manager.io (HTTP 404: the CRD is not installed)";
  CHECK(book.set_available(0, "a", false, missing));
  CHECK_FALSE(book.set_available(1, "b", false, missing));
  CHECK_FALSE(book.set_available(1, "b", false, missing));  // said again: still no news
  CHECK(book.size() == 0);  // gone with the CRD
  auto summary = book.summary();
  CHECK(summary["watching"] == false);
  CHECK(summary["reason"] == missing);
  CHECK(summary["scopes_unavailable"] == 2);
  // A 403 elsewhere is other news.
  CHECK(book.set_available(2, "c", false, "RBAC does not allow list on certificates.cert-manager.io (HTTP 403)"));
  CHECK(book.set_available(0, "a", true, ""));
  CHECK_FALSE(book.set_available(0, "a", true, ""));
}
