#include "cert_facts.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

#include "output.h"

namespace certsync::cli {

namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free_all(bio); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

std::string name_text(const X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

int64_t unix_time(const ASN1_TIME* time) {
  std::tm broken_down{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &broken_down) != 1) return 0;
  return static_cast<int64_t>(timegm(&broken_down));
}

std::string serial_of(const X509* cert) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> number(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr),
                                                     BN_free);
  if (!number) return {};
  char* hex = BN_bn2hex(number.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  return out;
}

std::string fingerprint_of(const X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &size) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0f];
  }
  return out;
}

std::string key_type_of(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return "unknown";
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "RSA-" + std::to_string(EVP_PKEY_get_bits(key));
    case EVP_PKEY_EC: {
      char group[80] = {};
      size_t length = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) != 1)
        return "EC";
      int nid = OBJ_sn2nid(group);
      if (nid == NID_undef) nid = OBJ_txt2nid(group);
      const char* nist = nid != NID_undef ? EC_curve_nid2nist(nid) : nullptr;
      return "EC-" + std::string(nist != nullptr ? nist : group);
    }
    case EVP_PKEY_ED25519:
      return "ED25519";
    case EVP_PKEY_ED448:
      return "ED448";
    default: {
      const char* name = OBJ_nid2sn(EVP_PKEY_get_base_id(key));
      return name != nullptr ? name : "unknown";
    }
  }
}

void add_alt_names(X509* cert, CertFacts* facts) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      facts->dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                    static_cast<size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      const int length = ASN1_STRING_length(ip);
      char text[INET6_ADDRSTRLEN] = {};
      const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
      if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text) != nullptr)
        facts->ip_addresses.emplace_back(text);
    }
  }
  GENERAL_NAMES_free(names);
}

}  // namespace

CertFacts facts_of(X509* cert) {
  CertFacts facts;
  facts.serial_hex = serial_of(cert);
  facts.fingerprint_sha256 = fingerprint_of(cert);
  facts.subject = name_text(X509_get_subject_name(cert));
  facts.issuer = name_text(X509_get_issuer_name(cert));
  facts.not_before = unix_time(X509_get0_notBefore(cert));
  facts.not_after = unix_time(X509_get0_notAfter(cert));
  facts.key_type = key_type_of(cert);
  add_alt_names(cert, &facts);
  return facts;
}

std::optional<CertFacts> first_certificate_facts(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return std::nullopt;
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                                                   X509_free);
  if (!cert) return std::nullopt;
  return facts_of(cert.get());
}

nlohmann::json facts_json(const CertFacts& facts) {
  return {{"serial", facts.serial_hex},
          {"fingerprint_sha256", facts.fingerprint_sha256},
          {"subject", facts.subject},
          {"issuer", facts.issuer},
          {"dns_names", facts.dns_names},
          {"ip_addresses", facts.ip_addresses},
          {"not_before", rfc3339(facts.not_before)},
          {"not_after", rfc3339(facts.not_after)},
          {"key_type", facts.key_type}};
}

}  // namespace certsync::cli
