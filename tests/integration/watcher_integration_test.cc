// libcertsync through its C ABI against the Kubernetes API test server:
// LIST, WATCH, validation and the store, end to end inside one process.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <openssl/pem.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>

extern "C" {
#include "certsync.h"
}

#include "../unit/tls_test_certs.h"
#include "test_server_process.h"

using certsync::testing::CertSpec;
using certsync::testing::KeyKind;
using certsync::testing::TestCert;
using certsync::testing::TestKey;
using certsync::testing::TestServerProcess;
using certsync::testing::wait_until;

namespace {

struct Pair {
  std::string crt;
  std::string key;
};

Pair make_pair_for(const std::string& name, int slot) {
  const TestKey& key = TestKey::shared(KeyKind::kEcP256, slot);
  CertSpec spec;
  spec.common_name = name;
  spec.dns_names = {name};
  return {TestCert::issue(spec, key).pem(), key.pkcs8_pem()};
}

using Handle = std::unique_ptr<certsync_t, decltype(&certsync_destroy)>;

Handle start_watcher(const std::map<std::string, std::string>& settings) {
  certsync_config_t* cfg = certsync_config_new();
  for (const auto& [key, value] : settings) {
    char* err = nullptr;
    REQUIRE(certsync_config_set(cfg, key.c_str(), value.c_str(), &err) == 0);
  }
  char* err = nullptr;
  certsync_t* cs = certsync_new(cfg, &err);
  certsync_config_free(cfg);
  INFO((err ? err : ""));
  REQUIRE(cs != nullptr);
  REQUIRE(certsync_start(cs, &err) == 0);
  return Handle(cs, certsync_destroy);
}

Handle start_watcher(const TestServerProcess& server, const std::string& policy = "keep") {
  return start_watcher({{"server", server.url()},
                        {"ca_file", server.ca_file()},
                        {"token_file", server.token_file()},
                        {"namespace", "default"},
                        {"deletion_policy", policy}});
}

// id -> serial of everything the store serves.
std::map<std::string, std::string> served(certsync_t* cs) {
  std::map<std::string, std::string> out;
  char* err = nullptr;
  certsync_changes_t* set = certsync_changes_since(cs, 0, &err);
  REQUIRE(set != nullptr);
  for (size_t i = 0; i < certsync_changes_count(set); ++i) {
    certsync_bundle_t b;
    REQUIRE(certsync_changes_get(set, i, &b) == 0);
    out[std::string(b.id, b.id_len)] = std::string(b.serial, b.serial_len);
  }
  certsync_changes_free(set);
  return out;
}

nlohmann::json status(certsync_t* cs) {
  size_t len = 0;
  char* text = certsync_status_json(cs, &len);
  auto json = nlohmann::json::parse(std::string(text, len));
  certsync_free(text);
  return json;
}

std::string serial_of(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  X509_free(x);
  BIO_free(bio);
  return out;
}

}  // namespace

TEST_CASE("Secrets that exist before the watcher starts are listed and served", "[integration]") {
  TestServerProcess server;
  const Pair a = make_pair_for("a.example.test", 0);
  REQUIRE(server.put_tls_secret("default", "a-tls", a.crt, a.key) == 201);
  auto cs = start_watcher(server);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) >= 1; }));
  REQUIRE(served(cs.get()) == std::map<std::string, std::string>{{"default/a-tls", serial_of(a.crt)}});
  REQUIRE(status(cs.get())["watchers"][0]["state"] == "watching");
}

TEST_CASE("a replaced Secret becomes the next generation, carrying the new serial", "[integration]") {
  TestServerProcess server;
  auto cs = start_watcher(server);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 1; }));  // the empty first list
  const Pair a = make_pair_for("app.example.test", 0);
  const Pair b = make_pair_for("app.example.test", 1);
  REQUIRE(server.put_tls_secret("default", "app-tls", a.crt, a.key) == 201);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 2; }));
  REQUIRE(server.put_tls_secret("default", "app-tls", b.crt, b.key) == 200);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 3; }));
  REQUIRE(served(cs.get())["default/app-tls"] == serial_of(b.crt));

  char* err = nullptr;
  certsync_changes_t* delta = certsync_changes_since(cs.get(), 2, &err);
  REQUIRE(certsync_changes_full(delta) == 0);
  REQUIRE(certsync_changes_count(delta) == 1);
  certsync_bundle_t view;
  certsync_changes_get(delta, 0, &view);
  REQUIRE(std::string(view.snis, view.snis_len) == "app.example.test");
  REQUIRE(std::string(view.key_pem, view.key_pem_len).find("PRIVATE KEY") != std::string::npos);
  certsync_changes_free(delta);
}

TEST_CASE("a broken replacement is refused and the last good bundle keeps serving", "[integration]") {
  TestServerProcess server;
  const Pair a = make_pair_for("app.example.test", 0);
  const Pair other = make_pair_for("app.example.test", 1);
  REQUIRE(server.put_tls_secret("default", "app-tls", a.crt, a.key) == 201);
  auto cs = start_watcher(server);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 1; }));
  REQUIRE(server.put_tls_secret("default", "app-tls", other.crt, a.key) == 200);
  REQUIRE(wait_until([&] { return status(cs.get())["secrets"][0].contains("refusal"); }));
  const auto secret = status(cs.get())["secrets"][0];
  REQUIRE(secret["refusal"]["code"] == "key_mismatch");
  REQUIRE(secret["state"] == "serving_last_good");
  REQUIRE(certsync_generation(cs.get()) == 1);
  REQUIRE(served(cs.get())["default/app-tls"] == serial_of(a.crt));
  REQUIRE(status(cs.get()).dump().find("PRIVATE KEY") == std::string::npos);
}

TEST_CASE("a metadata-only update is no new generation", "[integration]") {
  TestServerProcess server;
  const Pair a = make_pair_for("app.example.test", 0);
  REQUIRE(server.put_tls_secret("default", "app-tls", a.crt, a.key) == 201);
  auto cs = start_watcher(server);
  REQUIRE(wait_until([&] { return status(cs.get())["watchers"][0]["state"] == "watching"; }));
  REQUIRE(certsync_generation(cs.get()) == 1);
  const auto before = status(cs.get())["watchers"][0];
  REQUIRE(server.put_tls_secret("default", "app-tls", a.crt, a.key, R"({"touched":"yes"})") == 200);
  REQUIRE(wait_until([&] { return status(cs.get())["watchers"][0]["events"] > before["events"]; }));
  REQUIRE(status(cs.get())["watchers"][0]["validations"] == before["validations"]);
  REQUIRE(certsync_generation(cs.get()) == 1);
}

TEST_CASE("under the remove policy a deleted Secret stops being served", "[integration]") {
  TestServerProcess server;
  const Pair a = make_pair_for("app.example.test", 0);
  REQUIRE(server.put_tls_secret("default", "app-tls", a.crt, a.key) == 201);
  auto cs = start_watcher(server, "remove");
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 1; }));
  REQUIRE(server.delete_secret("default", "app-tls") == 200);
  REQUIRE(wait_until([&] { return certsync_generation(cs.get()) == 2; }));
  REQUIRE(served(cs.get()).empty());
}

TEST_CASE("stop returns within a second when the server accepts and never answers", "[integration]") {
  // A listening socket nobody accepts on: the kernel completes the TCP
  // handshake, and the TLS handshake then waits forever.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd, 8) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto cs = start_watcher({{"server", "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port))},
                           {"insecure_skip_tls_verify", "true"},
                           {"namespace", "default"}});
  REQUIRE(wait_until([&] { return status(cs.get())["watchers"][0]["state"] == "listing"; }));
  const auto started = std::chrono::steady_clock::now();
  certsync_stop(cs.get());
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took < std::chrono::seconds(1));
  REQUIRE(status(cs.get())["watchers"][0]["state"] == "stopped");
  close(fd);
}
