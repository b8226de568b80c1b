#include "tls/cert_cache.h"

#include <openssl/x509.h>

#include <mutex>
#include <string>
#include <unordered_map>

namespace certsync::tls {
namespace {

constexpr size_t kMaxShared = 512;  // issuers kept; a node rarely has more than a few

class SharedCertificates {
 public:
  ~SharedCertificates() { clear_locked(); }

  ossl::X509Ptr find(const std::string& der) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = by_der_.find(der);
    if (it == by_der_.end() || X509_up_ref(it->second) != 1) return nullptr;
    return ossl::X509Ptr(it->second);
  }

  void keep(const std::string& der, X509* cert) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (by_der_.count(der) != 0) return;
    if (by_der_.size() >= kMaxShared) clear_locked();  // many issuers: start over rather than grow
    if (X509_up_ref(cert) == 1) by_der_.emplace(der, cert);
  }

 private:
  void clear_locked() {
    for (auto& entry : by_der_) X509_free(entry.second);
    by_der_.clear();
  }

  std::mutex mutex_;
  std::unordered_map<std::string, X509*> by_der_;
};

SharedCertificates& shared_certificates() {
  // Never destroyed: watcher threads may still validate while the process exits.
  static SharedCertificates* certificates = new SharedCertificates();
  return *certificates;
}

ossl::X509Ptr parse(const unsigned char* der, size_t len) {
  const unsigned char* cursor = der;
  ossl::X509Ptr cert(d2i_X509(nullptr, &cursor, static_cast<long>(len)));
  if (!cert || cursor != der + len) return nullptr;
  return cert;
}

}  // namespace

ossl::X509Ptr parse_certificate_der(const unsigned char* der, size_t len, bool shared) {
  if (!shared) return parse(der, len);
  const std::string key(reinterpret_cast<const char*>(der), len);
  if (ossl::X509Ptr cert = shared_certificates().find(key)) return cert;
  ossl::X509Ptr cert = parse(der, len);
  // Only a certificate whose public key reads is worth keeping: the caller refuses the others.
  if (cert && X509_get0_pubkey(cert.get()) != nullptr) shared_certificates().keep(key, cert.get());
  return cert;
}

}  // namespace certsync::tls
