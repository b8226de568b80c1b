#include "recorded_exchange.h"

#include "client_text.h"

#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#ifndef KUBE_API_SAMPLES_DIR
#error "KUBE_API_SAMPLES_DIR must name fixtures/kube-api-samples"
#endif

namespace kube_test_client {
namespace {

bool is_dir(const std::string &path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool read_whole(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

}  // namespace

std::string RecordedExchange::header(const std::string &lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? "" : it->second;
}

nlohmann::json RecordedExchange::json() const {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded())
    FAIL("the recorded body of " << name << " is not JSON");
  return doc;
}

std::string samples_dir() {
  const char *env = std::getenv("CERTSYNC_KUBE_API_SAMPLES");
  return env != nullptr && *env != '\0' ? env : KUBE_API_SAMPLES_DIR;
}

std::vector<std::string> recorded_names() {
  namespace fs = std::filesystem;
  std::set<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry &e :
       fs::directory_iterator(samples_dir(), ec)) {
    const std::string file = e.path().filename().string();
    if (file == "README.md" || file.rfind('.', 0) == 0) continue;
    names.insert(e.path().stem().string());
  }
  return {names.begin(), names.end()};
}

RecordedExchange load_exchange(const std::string &name) {
  const std::string dir = samples_dir();
  if (!is_dir(dir)) {
    FAIL("the recorded kube-apiserver exchanges are missing: "
         << dir << " is not a directory. The conformance test compares the "
         << "server with them (tests/kube_api_server/fixtures/"
         << "kube-api-samples, or CERTSYNC_KUBE_API_SAMPLES).");
  }
  RecordedExchange ex;
  ex.name = name;
  std::string head;
  if (!read_whole(dir + "/" + name + ".headers", head) ||
      !read_whole(dir + "/" + name + ".body", ex.body)) {
    FAIL("recorded exchange " << name << " is missing from " << dir << " (need "
                              << name << ".headers and " << name << ".body)");
  }
  std::istringstream lines(head);
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    line = trim(line);
    if (line.empty()) continue;
    if (first) {
      // "HTTP/2 200" or "HTTP/1.1 504 Gateway Timeout"
      std::istringstream status_line(line);
      status_line >> ex.protocol >> ex.status;
      first = false;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    ex.headers[lower(trim(line.substr(0, colon)))] =
        trim(line.substr(colon + 1));
  }
  if (ex.status == 0)
    FAIL("no status line in " << dir << "/" << name << ".headers");
  return ex;
}

}  // namespace kube_test_client
