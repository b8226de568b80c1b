// Bearer-token authentication: one accepted token, replaceable at run time
// so tests can rotate it (POST /testing/token) and watch a client recover
// from 401 by re-reading its token file. Thread-safe.
#pragma once

#include <mutex>
#include <string>

namespace httplib {
struct Request;
}

namespace kube_test {

class BearerAuth {
 public:
  explicit BearerAuth(std::string token) : token_(std::move(token)) {}

  // True when the request carries `Authorization: Bearer <token>`.
  bool accepts(const httplib::Request &req) const;
  void rotate(std::string token);
  std::string token() const;

 private:
  mutable std::mutex mu_;
  std::string token_;
};

// 32 random bytes as hex: the token when --token is not given.
std::string random_token();

}  // namespace kube_test
