// Text helpers the API test server's own tests share when they read HTTP
// exchanges: header names compare in lower case, values without surrounding
// whitespace.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

namespace kube_test_client {

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return s;
}

inline std::string trim(const std::string &s) {
  const char *ws = " \t\r\n";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

}  // namespace kube_test_client
