// The server's TLS identity, made fresh at every start with the OpenSSL C
// API (unless --state kept one): a throwaway CA and a server certificate it
// signs, valid for 127.0.0.1, ::1, localhost and kube-api.certsync.test (IP
// and DNS SANs: Go's and curl's verifiers ignore the CN; the last name is
// for tests that make the API server's name stop resolving). Only the CA
// certificate is meant to leave the process (DIR/ca.crt); the keys stay in
// memory, or in the 0600 --state file when one is asked for.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>

namespace kube_test {

struct X509Free {
  void operator()(X509 *x) const { X509_free(x); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

struct TlsMaterial {
  X509Ptr ca_cert;
  EvpPkeyPtr ca_key;
  X509Ptr server_cert;
  EvpPkeyPtr server_key;
  std::string ca_cert_pem;
  std::string server_cert_pem;
};

// nullopt with `error` set when OpenSSL fails.
std::optional<TlsMaterial> generate_tls_material(std::string &error);

}  // namespace kube_test
