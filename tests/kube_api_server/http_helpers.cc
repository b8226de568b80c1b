#include "http_helpers.h"

#include <openssl/ssl.h>
#include <poll.h>

#include <algorithm>
#include <cctype>

#include "secret_object.h"

namespace kube_test {

void set_common_headers(httplib::Response &res) {
  res.set_header("Audit-Id", new_uid());
  res.set_header("Cache-Control", "no-cache, private");
}

void send_json(const httplib::Request &req, httplib::Response &res, int code,
               const Json &body) {
  const std::string ua = req.get_header_value("User-Agent");
  const bool pretty = param(req, "pretty") == "true" ||
                      ua.rfind("curl/", 0) == 0 || ua.rfind("Wget/", 0) == 0;
  set_common_headers(res);
  res.status = code;
  res.set_content(pretty ? body.dump(2) : body.dump(), "application/json");
}

void send_error(const httplib::Request &req, httplib::Response &res,
                const ApiError &err) {
  send_json(req, res, err.code, err.body);
}

std::string media_type(const httplib::Request &req) {
  std::string t = req.get_header_value("Content-Type");
  t = t.substr(0, t.find(';'));
  t.erase(std::remove_if(t.begin(), t.end(),
                         [](unsigned char c) { return std::isspace(c); }),
          t.end());
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t;
}

std::string param(const httplib::Request &req, const char *name) {
  return req.has_param(name) ? req.get_param_value(name) : std::string();
}

int request_socket(const httplib::Request &req) {
  return req.ssl != nullptr ? SSL_get_fd(req.ssl) : -1;
}

bool peer_hung_up(int fd) {
  if (fd < 0) return false;
  pollfd p{};
  p.fd = fd;
  p.events = POLLRDHUP;
  return ::poll(&p, 1, 0) > 0 &&
         (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace kube_test
