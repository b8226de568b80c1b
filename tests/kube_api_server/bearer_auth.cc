#include "bearer_auth.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace kube_test {

bool BearerAuth::accepts(const httplib::Request &req) const {
  const std::string header = req.get_header_value("Authorization");
  static const std::string kScheme = "Bearer ";
  if (header.compare(0, kScheme.size(), kScheme) != 0) return false;
  const std::string presented = header.substr(kScheme.size());
  std::lock_guard<std::mutex> lock(mu_);
  // Constant-time: a test server, but there is no reason to model a leak.
  return presented.size() == token_.size() && !token_.empty() &&
         CRYPTO_memcmp(presented.data(), token_.data(), token_.size()) == 0;
}

void BearerAuth::rotate(std::string token) {
  std::lock_guard<std::mutex> lock(mu_);
  token_ = std::move(token);
}

std::string BearerAuth::token() const {
  std::lock_guard<std::mutex> lock(mu_);
  return token_;
}

std::string random_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace kube_test
