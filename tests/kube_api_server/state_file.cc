#include "state_file.h"

#include <openssl/pem.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "output_files.h"
#include "x509_build.h"

namespace kube_test {
namespace {

X509Ptr cert_from_pem(const std::string &pem) {
  BIO *bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)
                   : nullptr);
  BIO_free(bio);
  return cert;
}

EvpPkeyPtr key_from_pem(const std::string &pem) {
  BIO *bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr)
                     : nullptr);
  BIO_free(bio);
  return key;
}

std::optional<TlsMaterial> tls_from_json(const Json &saved) {
  for (const char *field : {"caCert", "caKey", "serverCert", "serverKey"}) {
    if (!saved.contains(field) || !saved[field].is_string())
      return std::nullopt;
  }
  TlsMaterial m;
  m.ca_cert_pem = saved["caCert"].get<std::string>();
  m.server_cert_pem = saved["serverCert"].get<std::string>();
  m.ca_cert = cert_from_pem(m.ca_cert_pem);
  m.server_cert = cert_from_pem(m.server_cert_pem);
  m.ca_key = key_from_pem(saved["caKey"].get<std::string>());
  m.server_key = key_from_pem(saved["serverKey"].get<std::string>());
  if (!m.ca_cert || !m.server_cert || !m.ca_key || !m.server_key)
    return std::nullopt;
  return m;
}

}  // namespace

std::optional<LoadedState> load_state(const std::string &path,
                                      SecretStore &store, bool keep_history,
                                      std::string &error) {
  std::ifstream file(path);
  if (!file) {
    if (errno == ENOENT) return LoadedState{};
    error = "cannot read the state file " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::stringstream text;
  text << file.rdbuf();
  const Json saved = Json::parse(text.str(), nullptr, false);
  if (saved.is_discarded() || !saved.is_object() || !saved.contains("store")) {
    error = "the state file " + path + " is not a saved state (no \"store\")";
    return std::nullopt;
  }
  if (auto err = store.restore(saved["store"], keep_history)) {
    error = "the state file " + path + ": " + *err;
    return std::nullopt;
  }
  LoadedState loaded;
  loaded.found = true;
  if (saved.contains("tls")) {
    loaded.tls = tls_from_json(saved["tls"]);
    if (!loaded.tls) {
      error = "the state file " + path + " holds an unreadable TLS identity";
      return std::nullopt;
    }
  }
  return loaded;
}

bool save_state(const std::string &path, const SecretStore &store,
                const TlsMaterial &tls, std::string &error) {
  Json out;
  out["store"] = store.save();
  out["tls"] = Json{{"caCert", tls.ca_cert_pem},
                    {"caKey", private_key_to_pem(tls.ca_key.get())},
                    {"serverCert", tls.server_cert_pem},
                    {"serverKey", private_key_to_pem(tls.server_key.get())}};
  if (write_file_atomically(path, out.dump(), 0600)) return true;
  error = "cannot write the state file " + path + ": " + std::strerror(errno);
  return false;
}

}  // namespace kube_test
