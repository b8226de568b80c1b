// metadata.managedFields as the server records them (managed_fields.h): the
// creator owns what it set, a later writer takes over what it changed.
#include <catch2/catch.hpp>
#include <string>

#include "server_under_test.h"

namespace {

using nlohmann::json;
using namespace kube_test_client;

const std::string kSecrets = "/api/v1/namespaces/default/secrets";

json create_body() {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", "m"}, {"labels", {{"team", "a"}}}}},
          {"type", "kubernetes.io/tls"},
          {"data", {{"tls.crt", "Y2VydA=="}, {"tls.key", "a2V5"}}}};
}

json write(const ServerUnderTest &server, const std::string &method,
           const std::string &path, const std::string &content_type,
           const json &body) {
  HttpRequest req;
  req.method = method;
  req.path = path;
  req.content_type = content_type;
  req.body = body.dump();
  const HttpResponse res = server.request(req);
  INFO(method << " " << path << " -> " << res.status << " " << res.body);
  REQUIRE(res.status / 100 == 2);
  return json::parse(res.body);
}

json entry_of(const json &secret, const std::string &manager) {
  for (const json &e : secret["metadata"]["managedFields"]) {
    if (e.value("manager", "") == manager) return e;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("managedFields: the creator owns every field it set") {
  ServerUnderTest server;
  const json s = write(server, "POST", kSecrets + "?fieldManager=creator",
                       "application/json", create_body());
  REQUIRE(s["metadata"]["managedFields"].size() == 1);
  const json e = entry_of(s, "creator");
  CHECK(e["operation"] == "Update");
  CHECK(e["apiVersion"] == "v1");
  CHECK(e["fieldsType"] == "FieldsV1");
  CHECK(e["time"] == s["metadata"]["creationTimestamp"]);
  CHECK(e["fieldsV1"] ==
        json::parse(R"({"f:data":{".":{},"f:tls.crt":{},"f:tls.key":{}},
                        "f:metadata":{"f:labels":{".":{},"f:team":{}}},
                        "f:type":{}})"));
}

TEST_CASE(
    "managedFields: a writer takes over what it changed and a removed "
    "field leaves every set") {
  ServerUnderTest server;
  write(server, "POST", kSecrets + "?fieldManager=creator", "application/json",
        create_body());
  const json s = write(server, "PATCH", kSecrets + "/m?fieldManager=renewer",
                       "application/merge-patch+json",
                       json::parse(R"({"metadata":{"labels":{"team":null}},
                      "data":{"tls.key":"bmV3LWtleQ=="}})"));
  CHECK(entry_of(s, "creator")["fieldsV1"] ==
        json::parse(R"({"f:data":{".":{},"f:tls.crt":{}},"f:type":{}})"));
  CHECK(entry_of(s, "renewer")["fieldsV1"] ==
        json::parse(R"({"f:data":{"f:tls.key":{}}})"));
}

TEST_CASE(
    "managedFields: what a client sends is ignored, and a no-op "
    "update changes nothing") {
  ServerUnderTest server;
  json body = create_body();
  body["metadata"]["managedFields"] = json::parse(
      R"([{"manager":"forged","operation":"Update","fieldsType":"FieldsV1",
           "fieldsV1":{"f:type":{}}}])");
  const json created =
      write(server, "POST", kSecrets, "application/json", body);
  CHECK(entry_of(created, "forged").is_null());
  CHECK_FALSE(entry_of(created, "curl").is_null());  // the User-Agent's name

  json same = created;
  same["metadata"]["managedFields"] = json::array();
  const json replaced = write(server, "PUT", kSecrets + "/m?fieldManager=other",
                              "application/json", same);
  CHECK(replaced["metadata"]["resourceVersion"] ==
        created["metadata"]["resourceVersion"]);
  CHECK(replaced["metadata"]["managedFields"] ==
        created["metadata"]["managedFields"]);
}

TEST_CASE(
    "managedFields: server-side apply records an Apply entry with the "
    "applied fields") {
  ServerUnderTest server;
  const json applied = json::parse(
      R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"m",
          "annotations":{"cert-manager.io/certificate-name":"m"}},
          "type":"kubernetes.io/tls",
          "stringData":{"tls.crt":"c","tls.key":"k"}})");
  const json s =
      write(server, "PATCH", kSecrets + "/m?fieldManager=cert-manager",
            "application/apply-patch+yaml", applied);
  const json e = entry_of(s, "cert-manager");
  CHECK(e["operation"] == "Apply");
  CHECK(e["fieldsV1"] ==
        json::parse(R"({"f:data":{".":{},"f:tls.crt":{},"f:tls.key":{}},
          "f:metadata":{"f:annotations":{".":{},
            "f:cert-manager.io/certificate-name":{}}},
          "f:type":{}})"));
}
