// The test server answers like the real kube-apiserver v1.26.5 whose
// exchanges are recorded in fixtures/kube-api-samples: for each recording the
// server can reproduce, drive it into the same situation and compare the
// status code, the headers a client acts on (Content-Type, Cache-Control,
// Retry-After, chunked framing on HTTP/1.1) and the JSON shape of the body
// (json_shape.h: every key path and its type; fixed strings such as kind,
// reason, code exactly; uids, timestamps, resourceVersions, names not).
//
// Secrets are created from the recorded objects themselves (minus what the
// server fills in), with libcurl's "curl/..." User-Agent, so labels, data
// keys and managedFields come out as in the recordings.
//
// Not compared: 21 (kubectl's requests: the smoke test runs the real
// kubectl), the x-kubernetes-pf-* flow-control headers (no client reads
// them), and HTTP/2 framing (the server speaks HTTP/1.1 only).
//
// Every case is tagged [conformance]: CTest runs them once more against
// ../shared/kube-api-samples when our checkouts have it (CMakeLists.txt).
#include <catch2/catch.hpp>
#include <chrono>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "json_shape.h"
#include "recorded_exchange.h"
#include "server_under_test.h"

namespace {

using nlohmann::json;
using namespace kube_test_client;

const std::string kSecrets = "/api/v1/namespaces/default/secrets";

// Values a client branches on, or that never vary between runs.
json_shape::Options fixed_values() {
  json_shape::Options o;
  o.fixed = {"kind",       "apiVersion",
             "status",     "reason",
             "code",       "type",
             "field",      "retryAfterSeconds",
             "manager",    "operation",
             "fieldsType", "groupVersion",
             "versions",   "clientCIDR",
             "namespaced", "singularName",
             "verbs",      "storageVersionHash"};
  o.digit_blind = {"serverAddress"};
  return o;
}

// The same, and the message word for word (the names in it are the
// recording's, because the test uses the same ones).
json_shape::Options with_message() {
  json_shape::Options o = fixed_values();
  o.fixed.insert("message");
  return o;
}

// The same, and the message but for its numbers (resourceVersions).
json_shape::Options with_message_but_numbers() {
  json_shape::Options o = fixed_values();
  o.digit_blind.insert("message");
  return o;
}

std::string excerpt(const std::string &s) {
  return s.size() <= 1500 ? s : s.substr(0, 1500) + "...";
}

// Status code and the headers a client acts upon.
void check_head(const RecordedExchange &rec, const HttpResponse &got) {
  INFO("recording " << rec.name << "; served body: " << excerpt(got.body));
  CHECK(got.status == rec.status);
  CHECK(got.header("content-type") == rec.header("content-type"));
  CHECK(got.header("cache-control") == rec.header("cache-control"));
  CHECK(got.header("retry-after") == rec.header("retry-after"));
  CHECK(got.has_header("audit-id") == !rec.header("audit-id").empty());
  if (rec.protocol == "HTTP/1.1") {
    // How the body is framed: chunked (watches) or with a length.
    CHECK(got.header("transfer-encoding") == rec.header("transfer-encoding"));
    CHECK(got.has_header("content-length") ==
          !rec.header("content-length").empty());
  }
}

void check_shape(const std::string &what, const json &recorded,
                 const json &served, const json_shape::Options &options) {
  const std::vector<std::string> diffs =
      json_shape::differences(recorded, served, options);
  std::string listed;
  for (const std::string &d : diffs) listed += "\n  " + d;
  INFO(what << " differs from the recording:" << listed
            << "\nserved: " << excerpt(served.dump()));
  CHECK(diffs.empty());
}

json parse_body(const HttpResponse &res) {
  INFO("status " << res.status << " " << res.curl_error << ": "
                 << excerpt(res.body));
  json doc = json::parse(res.body, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

// A recorded exchange and a served response: head and body shape.
void check_exchange(const RecordedExchange &rec, const HttpResponse &got,
                    const json_shape::Options &options = fixed_values()) {
  check_head(rec, got);
  check_shape(rec.name, rec.json(), parse_body(got), options);
}

// A recorded Secret as a client would POST it: without what the server
// fills in.
json creatable(json object) {
  json &meta = object["metadata"];
  for (const char *k :
       {"uid", "resourceVersion", "creationTimestamp", "managedFields"}) {
    meta.erase(k);
  }
  object["kind"] = "Secret";
  object["apiVersion"] = "v1";
  return object;
}

const char *const kCreated[] = {"04-create-one", "04-create-two",
                                "04-create-three"};

// app-one, app-two, app-three, as in the recordings 04.
void create_recorded_secrets(const ServerUnderTest &server) {
  for (const char *name : kCreated) {
    HttpResponse res = server.send_json("POST", kSecrets,
                                        creatable(load_exchange(name).json()));
    INFO(res.body);
    REQUIRE(res.status == 201);
  }
}

std::string list_rv(const ServerUnderTest &server) {
  const json list = parse_body(server.get(kSecrets));
  return list["metadata"]["resourceVersion"].get<std::string>();
}

// Watch events grouped by type, {"ADDED":[...],"BOOKMARK":[...]}: the shape
// of each type against the recorded events of that type.
json by_type(const std::vector<json> &events) {
  json out = json::object();
  for (const json &e : events) {
    const std::string type = e.is_object() ? e.value("type", "?") : "?";
    out[type].push_back(e);
  }
  return out;
}

// The event types in the order they first appear.
std::vector<std::string> type_order(const std::vector<json> &events) {
  std::vector<std::string> out;
  for (const json &e : events) {
    const std::string type = e.is_object() ? e.value("type", "?") : "?";
    if (out.empty() || out.back() != type) {
      bool seen = false;
      for (const std::string &t : out) seen = seen || t == type;
      if (!seen) out.push_back(type);
    }
  }
  return out;
}

// One event per chunk, each ending in "\n", then the terminating chunk
// (sample 14). Returns the events.
std::vector<json> events_of_chunked(const std::string &what,
                                    const std::string &raw) {
  const Chunks chunks = split_chunks(raw);
  INFO(what << ": " << excerpt(raw));
  CHECK(chunks.error == "");
  CHECK(chunks.terminated);
  std::vector<json> events;
  for (const std::string &payload : chunks.payloads) {
    INFO("chunk: " << excerpt(payload));
    CHECK(payload.find('\n') == payload.size() - 1);
    json e = json::parse(payload, nullptr, false);
    CHECK_FALSE(e.is_discarded());
    events.push_back(e);
  }
  return events;
}

// base64url without padding, as in continue tokens.
std::string base64url_decode(const std::string &in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || c == '+') return 62;
    if (c == '_' || c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // padding
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFFu);
    }
  }
  return out;
}

json continue_token(const json &list_or_status) {
  const std::string token =
      list_or_status["metadata"].value("continue", std::string());
  json decoded = json::parse(base64url_decode(token), nullptr, false);
  INFO("continue token " << token);
  REQUIRE(decoded.is_object());
  return decoded;
}

json_shape::Options token_values() {
  json_shape::Options o;
  o.fixed = {"v"};
  return o;
}

// The recordings the cases below compare, and the one they leave out.
const char *const kCompared[] = {
    "01-discovery-api",    "02-discovery-api-v1",
    "03-discovery-apis",   "04-create-one",
    "04-create-two",       "04-create-three",
    "05-create-conflict",  "06-create-invalid-tls",
    "07-list-page1",       "08-list-page2",
    "09-list-selectors",   "10-get-one",
    "11-get-404",          "12-unauthorized",
    "13-forbidden",        "14-watch-http11-raw-chunks",
    "15-watch-decoded",    "16-delete",
    "17-watch-too-old-rv", "18-watch-future-rv",
    "19-list-future-rv",   "20-list-expired-continue",
    "22-openapi-v3-root",  "23-aggregated-discovery-api"};
const char *const kLeftOut = "21-kubectl-requests";  // kubectl_steps.sh

}  // namespace

TEST_CASE("every recorded exchange the conformance test reads is there",
          "[conformance]") {
  // A missing reference is a failure with the directory named, not a skip.
  for (const char *name : kCompared) {
    const RecordedExchange rec = load_exchange(name);
    CHECK(rec.status >= 200);
  }
}

TEST_CASE(
    "every recording in the samples directory is compared, or named as "
    "left out",
    "[conformance]") {
  // A recording added to the directory must get a case here; a silently
  // unread reference would look like conformance it does not prove.
  std::set<std::string> known(std::begin(kCompared), std::end(kCompared));
  known.insert(kLeftOut);
  const std::vector<std::string> names = recorded_names();
  INFO("samples directory " << samples_dir());
  CHECK_FALSE(names.empty());
  for (const std::string &name : names) {
    INFO("recording " << name);
    CHECK(known.count(name) == 1);
  }
}

TEST_CASE("01 GET /api answers APIVersions as recorded", "[conformance]") {
  ServerUnderTest server;
  check_exchange(load_exchange("01-discovery-api"), server.get("/api"));
}

TEST_CASE("02 GET /api/v1 lists the secrets resource as recorded",
          "[conformance]") {
  ServerUnderTest server;
  const RecordedExchange rec = load_exchange("02-discovery-api-v1");
  // Only Secrets are served: compare with the recorded secrets entry.
  json recorded = rec.json();
  json secrets = json::array();
  for (const json &r : recorded["resources"]) {
    if (r["name"] == "secrets") secrets.push_back(r);
  }
  REQUIRE(secrets.size() == 1);
  recorded["resources"] = secrets;
  const HttpResponse got = server.get("/api/v1");
  check_head(rec, got);
  check_shape(rec.name, recorded, parse_body(got), fixed_values());
}

TEST_CASE("03 GET /apis answers an APIGroupList as recorded", "[conformance]") {
  ServerUnderTest server;
  const RecordedExchange rec = load_exchange("03-discovery-apis");
  // No API groups are served (README): the list is empty by design.
  json recorded = rec.json();
  recorded["groups"] = json::array();
  const HttpResponse got = server.get("/apis");
  check_head(rec, got);
  check_shape(rec.name, recorded, parse_body(got), fixed_values());
}

TEST_CASE("04 POST answers 201 with the Secret as the server filled it in",
          "[conformance]") {
  ServerUnderTest server;
  for (const char *name : kCreated) {
    const RecordedExchange rec = load_exchange(name);
    check_exchange(rec,
                   server.send_json("POST", kSecrets, creatable(rec.json())));
  }
}

TEST_CASE("05 POST of an existing name answers 409 AlreadyExists",
          "[conformance]") {
  ServerUnderTest server;
  create_recorded_secrets(server);
  const json again = creatable(load_exchange("04-create-three").json());
  check_exchange(load_exchange("05-create-conflict"),
                 server.send_json("POST", kSecrets, again), with_message());
}

TEST_CASE(
    "06 POST of a kubernetes.io/tls Secret without tls.key answers "
    "422 Invalid",
    "[conformance]") {
  ServerUnderTest server;
  json bad = creatable(load_exchange("04-create-one").json());
  bad["metadata"] = {{"name", "bad"}};
  bad["data"].erase("tls.key");
  check_exchange(load_exchange("06-create-invalid-tls"),
                 server.send_json("POST", kSecrets, bad), with_message());
}

TEST_CASE(
    "07-08 LIST with limit=2 pages with continue and "
    "remainingItemCount as recorded",
    "[conformance]") {
  ServerUnderTest server;
  create_recorded_secrets(server);
  const RecordedExchange page1 = load_exchange("07-list-page1");
  const HttpResponse first = server.get(kSecrets + "?limit=2");
  check_exchange(page1, first);
  const json served = parse_body(first);
  REQUIRE(served["metadata"].contains("continue"));
  check_shape("the continue token of 07", continue_token(page1.json()),
              continue_token(served), token_values());

  const RecordedExchange page2 = load_exchange("08-list-page2");
  const std::string token = served["metadata"]["continue"];
  check_exchange(page2, server.get(kSecrets + "?limit=2&continue=" + token));
}

TEST_CASE("09 LIST with a field and a label selector answers as recorded",
          "[conformance]") {
  ServerUnderTest server;
  create_recorded_secrets(server);
  server.send_json("POST", kSecrets,
                   {{"apiVersion", "v1"},
                    {"kind", "Secret"},
                    {"metadata", {{"name", "not-selected"}}},
                    {"stringData", {{"k", "v"}}}});
  check_exchange(
      load_exchange("09-list-selectors"),
      server.get(kSecrets + "?fieldSelector=type%3Dkubernetes.io%2Ftls"
                            "&labelSelector=controller.cert-manager.io%2Ffao"
                            "%3Dtrue"));
}

TEST_CASE("10 GET of one Secret answers as recorded", "[conformance]") {
  ServerUnderTest server;
  create_recorded_secrets(server);
  check_exchange(load_exchange("10-get-one"),
                 server.get(kSecrets + "/app-one"));
}

TEST_CASE("11 GET of a missing Secret answers 404 NotFound", "[conformance]") {
  ServerUnderTest server;
  check_exchange(load_exchange("11-get-404"), server.get(kSecrets + "/nope"),
                 with_message());
}

TEST_CASE("12 a wrong token answers 401 Unauthorized", "[conformance]") {
  ServerUnderTest server;
  HttpRequest req;
  req.path = kSecrets;
  req.token = "not-the-token";
  check_exchange(load_exchange("12-unauthorized"), server.request(req),
                 with_message());
}

TEST_CASE("13 an injected 403 reads like RBAC's Forbidden", "[conformance]") {
  ServerUnderTest server;
  server.control("POST", "/testing/faults", R"({"verb":"list","status":403})");
  const RecordedExchange rec = load_exchange("13-forbidden");
  // Recorded for configmaps and a user of that cluster; here the resource
  // is secrets and the user kube-api-test.
  std::string text = rec.json().dump();
  for (const auto &[from, to] :
       {std::pair<std::string, std::string>{"configmaps", "secrets"},
        {"k8s-real-secrets", "kube-api-test"}}) {
    for (size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  }
  const HttpResponse got = server.get(kSecrets);
  check_head(rec, got);
  check_shape(rec.name, json::parse(text), parse_body(got), with_message());
}

TEST_CASE(
    "14 WATCH over HTTP/1.1 sends one event per chunk, ADDED then "
    "BOOKMARKs, and a final chunk",
    "[conformance]") {
  ServerUnderTest server({"--bookmark-interval-ms", "300"});
  const RecordedExchange rec = load_exchange("14-watch-http11-raw-chunks");
  const std::vector<json> recorded = events_of_chunked(rec.name, rec.body);
  REQUIRE(!recorded.empty());

  // The recorded ADDED is a Secret created after the list the watch starts
  // from: create it first, so the event comes before any BOOKMARK however
  // slow the machine.
  const std::string rv = list_rv(server);
  const json added = creatable(recorded.front()["object"]);
  REQUIRE(server.send_json("POST", kSecrets, added).status == 201);
  HttpRequest req;
  req.path = kSecrets +
             "?watch=true&allowWatchBookmarks=true&timeoutSeconds=1"
             "&resourceVersion=" +
             rv;
  req.raw_chunks = true;
  const HttpResponse got = server.request(req);

  check_head(rec, got);
  const std::vector<json> served = events_of_chunked("served", got.body);
  CHECK(type_order(served) == type_order(recorded));
  REQUIRE(!served.empty());
  // The real server sends a last BOOKMARK before the timeoutSeconds end.
  CHECK(served.back()["type"] == recorded.back()["type"]);
  check_shape(rec.name, by_type(recorded), by_type(served), fixed_values());
}

TEST_CASE(
    "15 WATCH from a list's resourceVersion sends MODIFIED, DELETED "
    "with the last state, and a BOOKMARK",
    "[conformance]") {
  ServerUnderTest server({"--bookmark-interval-ms", "300"});
  create_recorded_secrets(server);
  const RecordedExchange rec = load_exchange("15-watch-decoded");
  const std::vector<json> recorded = watch_events(rec.body);
  REQUIRE(recorded.size() >= 3);

  // The writes happen after the list and before the watch reads them.
  const std::string rv = list_rv(server);
  // The recorded MODIFIED is app-one with a new tls.key, put by curl.
  const json modified = creatable(recorded[0]["object"]);
  REQUIRE(server.send_json("PUT", kSecrets + "/app-one", modified).status ==
          200);
  HttpRequest del;
  del.method = "DELETE";
  del.path = kSecrets + "/app-two";
  REQUIRE(server.request(del).status == 200);
  HttpRequest req;
  req.path = kSecrets +
             "?watch=true&allowWatchBookmarks=true&timeoutSeconds=1"
             "&resourceVersion=" +
             rv;
  const HttpResponse got = server.request(req);

  check_head(rec, got);
  const std::vector<json> served = watch_events(got.body);
  CHECK(type_order(served) == type_order(recorded));
  check_shape(rec.name, by_type(recorded), by_type(served), fixed_values());
}

TEST_CASE("16 DELETE answers 200 with a Success Status naming the object",
          "[conformance]") {
  ServerUnderTest server;
  create_recorded_secrets(server);
  HttpRequest req;
  req.method = "DELETE";
  req.path = kSecrets + "/app-two";
  check_exchange(load_exchange("16-delete"), server.request(req));
}

TEST_CASE(
    "17 WATCH from a compacted resourceVersion answers 200 and one "
    "ERROR event with a 410 Expired Status",
    "[conformance]") {
  ServerUnderTest server;
  create_recorded_secrets(server);
  const std::string old_rv = list_rv(server);
  // The store moves on, then forgets its history (a restart, in 17).
  server.send_json(
      "POST", kSecrets,
      {{"metadata", {{"name", "later"}}}, {"stringData", {{"k", "v"}}}});
  server.control("POST", "/testing/compact");
  const RecordedExchange rec = load_exchange("17-watch-too-old-rv");

  HttpRequest req;
  req.path = kSecrets + "?watch=true&resourceVersion=" + old_rv;
  req.raw_chunks = true;
  const HttpResponse got = server.request(req);
  check_head(rec, got);
  const std::vector<json> served = events_of_chunked("served", got.body);
  const std::vector<json> recorded = watch_events(rec.body);
  REQUIRE(recorded.size() == 1);
  REQUIRE(served.size() == 1);
  check_shape(rec.name, recorded[0], served[0], with_message_but_numbers());
}

TEST_CASE(
    "18 WATCH from a future resourceVersion answers 200 and sends "
    "nothing until timeoutSeconds",
    "[conformance]") {
  ServerUnderTest server({"--bookmark-interval-ms", "200"});
  create_recorded_secrets(server);
  const RecordedExchange rec = load_exchange("18-watch-future-rv");
  CHECK(rec.body.empty());
  const std::string future =
      std::to_string(std::stoull(list_rv(server)) + 1000);

  HttpRequest req;
  req.path = kSecrets +
             "?watch=true&allowWatchBookmarks=true&timeoutSeconds=1"
             "&resourceVersion=" +
             future;
  req.raw_chunks = true;
  const HttpResponse got = server.request(req);
  check_head(rec, got);
  CHECK(events_of_chunked("served", got.body).empty());
  CHECK(got.elapsed >= std::chrono::milliseconds(900));
}

TEST_CASE(
    "19 LIST at a future resourceVersion answers 504 "
    "ResourceVersionTooLarge after ~3 s, with Retry-After: 1",
    "[conformance]") {
  ServerUnderTest server;
  create_recorded_secrets(server);
  const RecordedExchange rec = load_exchange("19-list-future-rv");
  const HttpResponse got = server.get(
      kSecrets + "?resourceVersion=999999&resourceVersionMatch=NotOlderThan");
  check_exchange(rec, got, with_message_but_numbers());
  CHECK(got.elapsed >= std::chrono::milliseconds(2500));
}

TEST_CASE(
    "20 LIST with a continue token older than a compaction answers "
    "410 Expired with a fresh continue token",
    "[conformance]") {
  ServerUnderTest server;
  create_recorded_secrets(server);
  const json page1 = parse_body(server.get(kSecrets + "?limit=2"));
  const std::string token = page1["metadata"]["continue"];
  // A write after the first page, then a compaction, as etcd does.
  server.send_json(
      "POST", kSecrets,
      {{"metadata", {{"name", "app-four"}}}, {"stringData", {{"k", "v"}}}});
  server.control("POST", "/testing/compact");

  const RecordedExchange rec = load_exchange("20-list-expired-continue");
  const HttpResponse got = server.get(kSecrets + "?limit=2&continue=" + token);
  check_exchange(rec, got, with_message());
  json_shape::Options token_options = token_values();
  token_options.fixed.insert("rv");  // -1: "continue inconsistently"
  check_shape("the fresh continue token of 20", continue_token(rec.json()),
              continue_token(parse_body(got)), token_options);
}

TEST_CASE("22 GET /openapi/v3 answers the index as recorded", "[conformance]") {
  ServerUnderTest server;
  const RecordedExchange rec = load_exchange("22-openapi-v3-root");
  // Only the core group's document is served: compare that entry.
  json recorded = rec.json();
  REQUIRE(recorded["paths"].contains("api/v1"));
  recorded["paths"] = {{"api/v1", recorded["paths"]["api/v1"]}};
  const HttpResponse got = server.get("/openapi/v3");
  check_head(rec, got);
  const json served = parse_body(got);
  check_shape(rec.name, recorded, served, fixed_values());
  // The hash in the URL is what kubectl fetches next.
  const std::string next =
      served["paths"]["api/v1"].value("serverRelativeURL", std::string());
  CHECK(next.rfind("/openapi/v3/api/v1?hash=", 0) == 0);
  CHECK(server.get(next).status == 200);
}

TEST_CASE(
    "23 GET /api asking for aggregated discovery answers legacy "
    "APIVersions, as v1.26 does",
    "[conformance]") {
  ServerUnderTest server;
  HttpRequest req;
  req.path = "/api";
  req.headers = {
      "Accept: application/json;g=apidiscovery.k8s.io;v=v2;"
      "as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;"
      "v=v2beta1;as=APIGroupDiscoveryList,application/json"};
  check_exchange(load_exchange("23-aggregated-discovery-api"),
                 server.request(req));
}
