#include "watcher_fixture.h"

#include <catch2/catch.hpp>
#include <openssl/pem.h>

#include "../unit/tls_test_certs.h"

namespace certsync::testing {

PemPair make_pair_for(const std::string& name, int slot) {
  const TestKey& key = TestKey::shared(KeyKind::kEcP256, slot);
  CertSpec spec;
  spec.common_name = name;
  spec.dns_names = {name};
  return {TestCert::issue(spec, key).pem(), key.pkcs8_pem()};
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

namespace {
certsync_t* create(const std::map<std::string, std::string>& settings, std::string* error) {
  certsync_config_t* cfg = certsync_config_new();
  char* err = nullptr;
  for (const auto& [key, value] : settings) {
    if (certsync_config_set(cfg, key.c_str(), value.c_str(), &err) != 0) break;
  }
  certsync_t* cs = err == nullptr ? certsync_new(cfg, &err) : nullptr;
  certsync_config_free(cfg);
  if (err != nullptr) {
    *error = err;
    certsync_free(err);
  }
  return cs;
}
}  // namespace

Handle start_certsync(const std::map<std::string, std::string>& settings) {
  std::string error;
  certsync_t* cs = create(settings, &error);
  INFO(error);
  REQUIRE(cs != nullptr);
  char* err = nullptr;
  REQUIRE(certsync_start(cs, &err) == 0);
  return Handle(cs, certsync_destroy);
}

std::string creation_error(const std::map<std::string, std::string>& settings) {
  std::string error;
  certsync_t* cs = create(settings, &error);
  if (cs != nullptr) certsync_destroy(cs);
  return error;
}

std::map<std::string, std::string> settings_for(const TestServerProcess& server,
                                                const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> settings = {{"server", server.url()},
                                                 {"ca_file", server.ca_file()},
                                                 {"token_file", server.token_file()},
                                                 {"namespace", "default"}};
  for (const auto& [key, value] : extra) settings[key] = value;
  return settings;
}

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

nlohmann::json watcher_status(certsync_t* cs) { return status(cs)["watchers"][0]; }

}  // namespace certsync::testing
