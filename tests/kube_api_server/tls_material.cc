#include "tls_material.h"

#include <openssl/x509v3.h>

#include "x509_build.h"

namespace kube_test {

std::optional<TlsMaterial> generate_tls_material(std::string &error) {
  TlsMaterial m;
  m.ca_key = new_p256_key();
  m.server_key = new_p256_key();
  if (!m.ca_key || !m.server_key) {
    error = openssl_error("generating P-256 keys");
    return std::nullopt;
  }

  m.ca_cert = new_cert(m.ca_key.get(), "kube-api-test-server-ca", 3650);
  if (!m.ca_cert) {
    error = openssl_error("creating the CA certificate");
    return std::nullopt;
  }
  X509 *ca = m.ca_cert.get();
  if (X509_set_issuer_name(ca, X509_get_subject_name(ca)) != 1 ||
      !add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(ca, ca, NID_key_usage,
               "critical,digitalSignature,keyCertSign,cRLSign") ||
      !add_ext(ca, ca, NID_subject_key_identifier, "hash") ||
      X509_sign(ca, m.ca_key.get(), EVP_sha256()) == 0) {
    error = openssl_error("signing the CA certificate");
    return std::nullopt;
  }

  m.server_cert = new_cert(m.server_key.get(), "kube-apiserver", 365);
  if (!m.server_cert) {
    error = openssl_error("creating the server certificate");
    return std::nullopt;
  }
  X509 *srv = m.server_cert.get();
  if (X509_set_issuer_name(srv, X509_get_subject_name(ca)) != 1 ||
      !add_ext(srv, ca, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(srv, ca, NID_key_usage, "critical,digitalSignature") ||
      !add_ext(srv, ca, NID_ext_key_usage, "serverAuth") ||
      !add_ext(srv, ca, NID_subject_key_identifier, "hash") ||
      !add_ext(srv, ca, NID_authority_key_identifier, "keyid:always") ||
      !add_ext(srv, ca, NID_subject_alt_name,
               "IP:127.0.0.1,IP:::1,DNS:localhost,"
               "DNS:kube-api.certsync.test") ||
      X509_sign(srv, m.ca_key.get(), EVP_sha256()) == 0) {
    error = openssl_error("signing the server certificate");
    return std::nullopt;
  }

  m.ca_cert_pem = to_pem(ca);
  m.server_cert_pem = to_pem(srv);
  if (m.ca_cert_pem.empty() || m.server_cert_pem.empty()) {
    error = openssl_error("encoding certificates as PEM");
    return std::nullopt;
  }
  return m;
}

}  // namespace kube_test
