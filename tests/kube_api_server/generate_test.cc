// POST /testing/generate (secret_generator.h): many Secrets at once, each
// a well-formed TLS Secret (or a blob), created as POSTs would create them.
#include <catch2/catch.hpp>
#include <string>

#include "base64.h"
#include "server_under_test.h"

namespace {

using nlohmann::json;
using namespace kube_test_client;

const std::string kSecrets = "/api/v1/namespaces/default/secrets";
// The PEM label of a PKCS#8 key, spelt in two parts so this file holds no key armour.
const std::string kPkcs8Label = std::string("BEGIN ") + "PRIVATE KEY";

size_t count_of(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string decoded(const json &secret, const std::string &key) {
  return kube_test::base64_decode(secret["data"][key].get<std::string>()).value_or("");
}

}  // namespace

TEST_CASE("generated TLS Secrets carry a leaf, its intermediate, a key and the root, each a write",
          "[generate]") {
  ServerUnderTest server;
  const json before = json::parse(server.get(kSecrets).body);
  const json summary = server.control(
      "POST", "/testing/generate", R"({"count":4,"prefix":"app","keys":"mixed","wildcard":true})");
  CHECK(summary["created"] == 4);
  CHECK(summary["first"] == "app-0");
  CHECK(summary["last"] == "app-3");
  const json list = json::parse(server.get(kSecrets).body);
  REQUIRE(list["items"].size() == 4);
  CHECK(std::stoull(list["metadata"]["resourceVersion"].get<std::string>()) ==
        std::stoull(before["metadata"]["resourceVersion"].get<std::string>()) + 4);
  for (const json &secret : list["items"]) {
    INFO(secret["metadata"]["name"]);
    CHECK(secret["type"] == "kubernetes.io/tls");
    CHECK(count_of(decoded(secret, "tls.crt"), "BEGIN CERTIFICATE") == 2);
    CHECK(count_of(decoded(secret, "ca.crt"), "BEGIN CERTIFICATE") == 1);
    CHECK(count_of(decoded(secret, "tls.key"), kPkcs8Label) == 1);
  }
  // Odd ones are RSA in "mixed": their PKCS#8 keys are far longer.
  CHECK(decoded(list["items"][1], "tls.key").size() > 3 * decoded(list["items"][0], "tls.key").size());
}

TEST_CASE("generated blobs are Opaque Secrets of the size asked for", "[generate]") {
  ServerUnderTest server;
  server.control("POST", "/testing/generate", R"({"count":2,"payload":"blob","blob_bytes":1000})");
  const json list = json::parse(server.get(kSecrets).body);
  REQUIRE(list["items"].size() == 2);
  CHECK(list["items"][0]["type"] == "Opaque");
  CHECK(decoded(list["items"][0], "blob").size() == 1000);
}

TEST_CASE("a generate request with a bad field is refused naming it", "[generate]") {
  ServerUnderTest server;
  HttpRequest req;
  req.method = "POST";
  req.path = "/testing/generate";
  req.content_type = "application/json";
  req.body = R"({"count":2,"keys":"dsa"})";
  HttpResponse res = server.request(req);
  CHECK(res.status == 400);
  CHECK(res.body.find("keys must be") != std::string::npos);
  req.body = R"({"count":2,"colour":"red"})";
  res = server.request(req);
  CHECK(res.status == 400);
  CHECK(res.body.find("unknown field colour") != std::string::npos);
}
