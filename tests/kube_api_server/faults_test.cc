// The faults a test can inject with POST /testing/faults (README, "Test
// control"): each does to the bytes on the wire what its README line says.
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "server_under_test.h"

namespace {

using nlohmann::json;
using namespace kube_test_client;
using std::chrono::milliseconds;

const std::string kSecrets = "/api/v1/namespaces/default/secrets";

json small_secret(const std::string &name) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}}},
          {"stringData", {{"k", "v"}}}};
}

void create(const ServerUnderTest &server, const std::string &name) {
  const HttpResponse res =
      server.send_json("POST", kSecrets, small_secret(name));
  INFO(res.body);
  REQUIRE(res.status == 201);
}

std::string list_rv(const ServerUnderTest &server) {
  const json list = json::parse(server.get(kSecrets).body);
  return list["metadata"]["resourceVersion"].get<std::string>();
}

HttpRequest watch(const std::string &query, bool raw = false) {
  HttpRequest req;
  req.path = kSecrets + "?watch=true&" + query;
  req.raw_chunks = raw;
  return req;
}

long open_watches(const ServerUnderTest &server) {
  return server.control("GET", "/testing/counters")["open_watches"].get<long>();
}

bool eventually(const std::function<bool()> &condition) {
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(3000);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return condition();
}

}  // namespace

TEST_CASE(
    "faults: drip_bytes sends a watch a few bytes per chunk, paced by "
    "drip_interval_ms") {
  ServerUnderTest server;
  create(server, "s");
  server.control("POST", "/testing/faults",
                 R"({"verb":"watch","drip_bytes":7,"drip_interval_ms":10})");
  const HttpResponse got = server.request(watch("timeoutSeconds=1", true));
  REQUIRE(got.status == 200);
  const Chunks chunks = split_chunks(got.body);
  CHECK(chunks.error == "");
  CHECK(chunks.terminated);
  std::string stream;
  for (const std::string &c : chunks.payloads) {
    CHECK(c.size() <= 7);
    stream += c;
  }
  // The pieces still add up to the one ADDED event, whole.
  const std::vector<json> events = watch_events(stream);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "ADDED");
  CHECK(chunks.payloads.size() == (stream.size() + 6) / 7);
  const auto pieces = static_cast<long>(chunks.payloads.size());
  CHECK(got.elapsed >= milliseconds((pieces - 1) * 10 * 8 / 10));
}

TEST_CASE("faults: drip_bytes sends a LIST body slowly, Content-Length exact") {
  ServerUnderTest server;
  for (const char *name : {"a", "b", "c"}) create(server, name);
  server.control("POST", "/testing/faults",
                 R"({"verb":"list","drip_bytes":100,"drip_interval_ms":20})");
  const HttpResponse got = server.get(kSecrets);
  REQUIRE(got.status == 200);
  CHECK(got.header("content-length") == std::to_string(got.body.size()));
  CHECK(got.header("content-type") == "application/json");
  const json list = json::parse(got.body);
  CHECK(list["items"].size() == 3);
  const auto steps = static_cast<long>(got.body.size() / 100);
  CHECK(got.elapsed >= milliseconds(steps * 20 * 8 / 10));
  CHECK(got.pieces.size() >= 3);
  // Only the next LIST was dripped.
  CHECK(server.get(kSecrets).elapsed < milliseconds(1000));
}

TEST_CASE("faults: drip_bytes paces an injected error answer too") {
  ServerUnderTest server;
  server.control("POST", "/testing/faults",
                 R"({"verb":"list","status":429,"retry_after":1,)"
                 R"("drip_bytes":16,"drip_interval_ms":10})");
  const HttpResponse got = server.get(kSecrets);
  CHECK(got.status == 429);
  CHECK(got.header("retry-after") == "1");
  CHECK(json::parse(got.body)["reason"] == "TooManyRequests");
  CHECK(got.elapsed >= milliseconds(50));
}

TEST_CASE(
    "faults: stall_after_headers sends a watch's 200 and headers, then "
    "not a byte") {
  ServerUnderTest server;
  create(server, "s");
  server.control("POST", "/testing/faults", R"({"stall_after_headers":true})");
  HttpRequest req = watch("timeoutSeconds=1");
  req.timeout_ms = 1200;  // past timeoutSeconds: the stall outlasts it
  const HttpResponse got = server.request(req);
  CHECK(got.status == 200);
  CHECK(got.header("transfer-encoding") == "chunked");
  CHECK(got.curl_code == 28);  // CURLE_OPERATION_TIMEDOUT
  CHECK(got.body.empty());
  // The server noticed the client hang up, and the next watch is normal.
  CHECK(eventually([&] { return open_watches(server) == 0; }));
  const HttpResponse next = server.request(watch("timeoutSeconds=1"));
  CHECK(next.curl_code == 0);
  CHECK(watch_events(next.body).size() == 1);
}

TEST_CASE(
    "faults: clearing the faults releases a stalled watch, which then "
    "carries on") {
  ServerUnderTest server;
  const std::string rv = list_rv(server);
  server.control("POST", "/testing/faults",
                 R"({"verb":"watch","stall_after_headers":true})");
  auto stalled = std::async(std::launch::async, [&server, rv] {
    return server.request(watch("timeoutSeconds=1&resourceVersion=" + rv));
  });
  REQUIRE(server.wait_for_open_watches(1));
  create(server, "during-the-stall");
  std::this_thread::sleep_for(milliseconds(300));
  server.control("DELETE", "/testing/faults");
  const HttpResponse got = stalled.get();
  CHECK(got.curl_code == 0);
  REQUIRE_FALSE(got.pieces.empty());
  CHECK(got.pieces.front().first >= milliseconds(300));
  const std::vector<json> events = watch_events(got.body);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "ADDED");
  CHECK(events[0]["object"]["metadata"]["name"] == "during-the-stall");
}

TEST_CASE(
    "faults: stall_after_headers on a LIST holds its body until the "
    "faults are cleared") {
  ServerUnderTest server;
  create(server, "s");
  server.control("POST", "/testing/faults",
                 R"({"verb":"list","stall_after_headers":true})");
  auto stalled = std::async(std::launch::async,
                            [&server] { return server.get(kSecrets); });
  std::this_thread::sleep_for(milliseconds(300));
  server.control("DELETE", "/testing/faults");
  const HttpResponse got = stalled.get();
  CHECK(got.status == 200);
  REQUIRE_FALSE(got.pieces.empty());
  CHECK(got.pieces.front().first >= milliseconds(250));
  CHECK(json::parse(got.body)["items"].size() == 1);
}

TEST_CASE(
    "faults: a watch stalled after its headers does not hold up the "
    "server's exit") {
  ServerUnderTest server;
  server.control("POST", "/testing/faults", R"({"stall_after_headers":true})");
  auto stalled = std::async(std::launch::async, [&server] {
    return server.request(watch("timeoutSeconds=30"));
  });
  REQUIRE(server.wait_for_open_watches(1));
  const auto start = std::chrono::steady_clock::now();
  CHECK(server.stop(milliseconds(3000)) == 0);
  CHECK(std::chrono::steady_clock::now() - start < milliseconds(2000));
  const HttpResponse got = stalled.get();
  CHECK(got.status == 200);
  CHECK(got.elapsed < milliseconds(5000));
}

TEST_CASE(
    "faults: oversize_event_bytes sends one event of exactly that "
    "size, a MODIFIED of a Secret the watch sees") {
  ServerUnderTest server;
  create(server, "big");
  const std::string rv = list_rv(server);
  server.control("POST", "/testing/faults",
                 R"({"oversize_event_bytes":5000000})");
  const HttpResponse got =
      server.request(watch("timeoutSeconds=1&resourceVersion=" + rv));
  REQUIRE(got.status == 200);
  const size_t eol = got.body.find('\n');
  REQUIRE(eol != std::string::npos);
  CHECK(eol == 5000000);
  const json event = json::parse(got.body.substr(0, eol));
  CHECK(event["type"] == "MODIFIED");
  CHECK(event["object"]["kind"] == "Secret");
  CHECK(event["object"]["metadata"]["name"] == "big");
  // It claims no resourceVersion past the one the watch started from.
  CHECK(event["object"]["metadata"]["resourceVersion"] == rv);
  CHECK(event["object"]["metadata"]["annotations"].contains(
      "kube-api-test-server/padding"));
  CHECK(got.body.size() == eol + 1);
}

TEST_CASE(
    "faults: oversize_event_bytes on a watch that sees no Secret sends "
    "an ADDED of a made-up one") {
  ServerUnderTest server;
  server.control("POST", "/testing/faults",
                 R"({"oversize_event_bytes":70000})");
  const HttpResponse got = server.request(watch("timeoutSeconds=1"));
  const std::vector<json> events = watch_events(got.body);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "ADDED");
  CHECK(events[0].dump().size() == 70000);
}

TEST_CASE(
    "faults: unknown_event_type sends one event of that type, then the "
    "watch carries on") {
  ServerUnderTest server;
  create(server, "s");
  const std::string rv = list_rv(server);
  server.control("POST", "/testing/faults",
                 R"({"unknown_event_type":"WEIRD"})");
  auto w = std::async(std::launch::async, [&server, rv] {
    return server.request(watch("timeoutSeconds=1&resourceVersion=" + rv));
  });
  REQUIRE(server.wait_for_open_watches(1));
  create(server, "after");
  const std::vector<json> events = watch_events(w.get().body);
  REQUIRE(events.size() == 2);
  CHECK(events[0]["type"] == "WEIRD");
  CHECK(events[0]["object"]["kind"] == "Secret");
  CHECK(events[1]["type"] == "ADDED");
  CHECK(events[1]["object"]["metadata"]["name"] == "after");
}

TEST_CASE(
    "faults: drop_after_events tears the watch in the middle of an "
    "event") {
  ServerUnderTest server;
  for (const char *name : {"a", "b"}) create(server, name);
  server.control("POST", "/testing/faults", R"({"drop_after_events":1})");
  const HttpResponse got = server.request(watch("timeoutSeconds=5", true));
  CHECK(got.curl_code != 0);  // the connection died mid-body
  const Chunks chunks = split_chunks(got.body);
  CHECK_FALSE(chunks.terminated);
  REQUIRE(chunks.payloads.size() >= 1);
  CHECK(json::parse(chunks.payloads[0])["type"] == "ADDED");
  CHECK(got.elapsed < milliseconds(4000));
}

TEST_CASE(
    "faults: an injected 403 names the request's verb, namespace and "
    "Secret") {
  ServerUnderTest server;
  server.control("POST", "/testing/faults", R"({"verb":"get","status":403})");
  const HttpResponse got = server.get(kSecrets + "/app-one");
  CHECK(got.status == 403);
  const json status = json::parse(got.body);
  CHECK(status["message"] ==
        "secrets \"app-one\" is forbidden: User \"kube-api-test\" cannot get "
        "resource \"secrets\" in API group \"\" in the namespace \"default\"");
  CHECK(status["details"] == json{{"name", "app-one"}, {"kind", "secrets"}});
}

TEST_CASE("faults: a malformed fault spec is refused whole, with 400") {
  ServerUnderTest server;
  for (const char *spec :
       {R"({"drip_byte":7})", R"({"verbs":["list"],"oversize_event_bytes":9})",
        R"({"verb":"watch","drip_bytes":0})", R"({"drip_interval_ms":5})",
        R"({"verb":"watch","verbs":["list"],"status":500})",
        R"({"unknown_event_type":""})", R"({"status":"429"})",
        R"([{"status":429},{"status":200}])", R"({"count":1})"}) {
    HttpRequest req;
    req.method = "POST";
    req.path = "/testing/faults";
    req.body = spec;
    req.token = "-";
    const HttpResponse got = server.request(req);
    INFO(spec << " -> " << got.body);
    CHECK(got.status == 400);
  }
  CHECK(server.control("GET", "/testing/faults") == json::array());
}
