#include "secret_generator.h"

#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <vector>

#include "base64.h"
#include "status_body.h"
#include "x509_build.h"

namespace kube_test {
namespace {

constexpr size_t kRsaPoolSize = 4;
constexpr long kLeafDays = 90;  // cert-manager's default duration

struct Issuer {
  EvpPkeyPtr root_key, key;
  X509Ptr root, cert;
  std::string root_pem, cert_pem;
};

bool sign_ca(X509 *cert, X509 *issuer, EVP_PKEY *issuer_key) {
  return X509_set_issuer_name(cert, X509_get_subject_name(issuer)) == 1 &&
         add_ext(cert, issuer, NID_basic_constraints, "critical,CA:TRUE") &&
         add_ext(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         add_ext(cert, issuer, NID_subject_key_identifier, "hash") &&
         X509_sign(cert, issuer_key, EVP_sha256()) != 0;
}

std::optional<Issuer> make_issuer(std::string &error) {
  Issuer is;
  is.root_key = new_p256_key();
  is.key = new_p256_key();
  if (!is.root_key || !is.key) {
    error = openssl_error("generating the issuer keys");
    return std::nullopt;
  }
  is.root = new_cert(is.root_key.get(), "kube-api-test-server bench root", 3650);
  is.cert = new_cert(is.key.get(), "kube-api-test-server bench intermediate", 3650);
  if (!is.root || !is.cert || !sign_ca(is.root.get(), is.root.get(), is.root_key.get()) ||
      !sign_ca(is.cert.get(), is.root.get(), is.root_key.get())) {
    error = openssl_error("signing the issuer certificates");
    return std::nullopt;
  }
  is.root_pem = to_pem(is.root.get());
  is.cert_pem = to_pem(is.cert.get());
  return is;
}

// tls.crt and tls.key of leaf i.
bool make_leaf(const Issuer &is, EVP_PKEY *key, const std::string &host, bool wildcard,
               std::string &cert_pem) {
  X509Ptr leaf = new_cert(key, host.c_str(), kLeafDays);
  std::string names = "DNS:" + host + (wildcard ? ",DNS:*." + host : "");
  X509 *c = leaf.get();
  if (!leaf || X509_set_issuer_name(c, X509_get_subject_name(is.cert.get())) != 1 ||
      !add_ext(c, is.cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(c, is.cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !add_ext(c, is.cert.get(), NID_ext_key_usage, "serverAuth") ||
      !add_ext(c, is.cert.get(), NID_authority_key_identifier, "keyid:always") ||
      !add_ext(c, is.cert.get(), NID_subject_alt_name, names.c_str()) ||
      X509_sign(c, is.key.get(), EVP_sha256()) == 0) {
    return false;
  }
  cert_pem = to_pem(c);
  return !cert_pem.empty();
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char *>(out.data()), static_cast<int>(n)) != 1) {
    return {};
  }
  return out;
}

template <typename T>
bool read_field(const Json &body, const char *name, T &out, std::string &error) {
  if (!body.contains(name)) return true;
  const Json &v = body[name];
  bool ok = false;
  if constexpr (std::is_same_v<T, std::string>) ok = v.is_string();
  else if constexpr (std::is_same_v<T, bool>) ok = v.is_boolean();
  else ok = v.is_number_unsigned() || (v.is_number_integer() && v.get<long long>() >= 0);
  if (!ok) {
    error = std::string(name) + " has the wrong type";
    return false;
  }
  out = v.get<T>();
  return true;
}

}  // namespace

std::optional<GenerateSpec> parse_generate_spec(const Json &body, std::string &error) {
  if (!body.is_object()) {
    error = "expected a JSON object";
    return std::nullopt;
  }
  static const char *const kFields[] = {"namespace", "prefix", "start", "count", "type", "payload",
                                        "keys", "chain", "domain", "wildcard", "blob_bytes"};
  for (const auto &item : body.items()) {
    bool known = false;
    for (const char *f : kFields) known = known || item.key() == f;
    if (!known) {
      error = "unknown field " + item.key();
      return std::nullopt;
    }
  }
  GenerateSpec spec;
  size_t chain = 2;
  if (!read_field(body, "namespace", spec.ns, error) || !read_field(body, "prefix", spec.prefix, error) ||
      !read_field(body, "start", spec.start, error) || !read_field(body, "count", spec.count, error) ||
      !read_field(body, "type", spec.type, error) || !read_field(body, "payload", spec.payload, error) ||
      !read_field(body, "keys", spec.keys, error) || !read_field(body, "chain", chain, error) ||
      !read_field(body, "domain", spec.domain, error) || !read_field(body, "wildcard", spec.wildcard, error) ||
      !read_field(body, "blob_bytes", spec.blob_bytes, error)) {
    return std::nullopt;
  }
  if (spec.count == 0 || spec.count > kMaxGenerate) {
    error = "count must be between 1 and " + std::to_string(kMaxGenerate);
  } else if (spec.payload != "tls" && spec.payload != "blob") {
    error = "payload must be tls or blob";
  } else if (spec.keys != "ec" && spec.keys != "rsa" && spec.keys != "mixed") {
    error = "keys must be ec, rsa or mixed";
  } else if (chain != 1 && chain != 2) {
    error = "chain must be 1 or 2";
  } else if (spec.blob_bytes > 900 * 1024) {
    error = "blob_bytes must stay under the API server's 1 MiB limit";
  } else if (spec.ns.empty() || spec.prefix.empty()) {
    error = "namespace and prefix must not be empty";
  }
  if (!error.empty()) return std::nullopt;
  spec.chain = static_cast<int>(chain);
  if (spec.type.empty()) spec.type = spec.payload == "tls" ? "kubernetes.io/tls" : "Opaque";
  return spec;
}

StoreResult generate_secrets(SecretStore &store, const GenerateSpec &spec) {
  auto fail = [](const std::string &message) {
    return StoreResult{ApiError{500, failure_status(500, "InternalError", message)}, Json()};
  };
  std::string error;
  std::optional<Issuer> issuer;
  std::vector<EvpPkeyPtr> rsa_pool;
  if (spec.payload == "tls") {
    issuer = make_issuer(error);
    if (!issuer) return fail(error);
    if (spec.keys != "ec") {
      for (size_t i = 0; i < kRsaPoolSize; ++i) {
        rsa_pool.push_back(new_rsa_key(2048));
        if (!rsa_pool.back()) return fail(openssl_error("generating RSA keys"));
      }
    }
  }
  Json summary;
  for (size_t n = 0; n < spec.count; ++n) {
    const size_t i = spec.start + n;
    const std::string name = spec.prefix + "-" + std::to_string(i);
    Json data = Json::object();
    if (spec.payload == "blob") {
      data["blob"] = base64_encode(random_bytes(spec.blob_bytes));
    } else {
      const bool rsa = spec.keys == "rsa" || (spec.keys == "mixed" && i % 2 == 1);
      EvpPkeyPtr ec_key;
      EVP_PKEY *key = nullptr;
      if (rsa) {
        key = rsa_pool[i % rsa_pool.size()].get();
      } else {
        ec_key = new_p256_key();
        key = ec_key.get();
      }
      std::string leaf_pem;
      if (key == nullptr || !make_leaf(*issuer, key, name + "." + spec.domain, spec.wildcard, leaf_pem)) {
        return fail(openssl_error(("generating the certificate of " + name).c_str()));
      }
      data["tls.crt"] = base64_encode(spec.chain == 2 ? leaf_pem + issuer->cert_pem : leaf_pem);
      data["tls.key"] = base64_encode(private_key_to_pem(key));
      data["ca.crt"] = base64_encode(spec.chain == 2 ? issuer->root_pem : issuer->cert_pem);
    }
    Json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", name}, {"namespace", spec.ns}}},
                   {"type", spec.type},
                   {"data", std::move(data)}};
    StoreResult created = store.create(std::move(secret));
    if (created.error) return created;
    if (n == 0) summary["first"] = name;
    summary["last"] = name;
  }
  summary["created"] = spec.count;
  summary["resourceVersion"] = std::to_string(store.current_rv());
  return StoreResult{std::nullopt, summary};
}

}  // namespace kube_test
