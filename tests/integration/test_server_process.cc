#include "test_server_process.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "util/base64.h"

namespace certsync::testing {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

TestServerProcess::TestServerProcess(Options options) {
  char pattern[] = "/tmp/certsync-itest.XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  pid_ = fork();
  if (pid_ == 0) {
    const std::string log = dir_ + "/server.log";
    FILE* out = std::freopen(log.c_str(), "w", stderr);
    (void)out;
    const std::string bookmarks = std::to_string(options.bookmark_interval_ms);
    const std::string history = std::to_string(options.history);
    execl(KUBE_API_TEST_SERVER_PATH, KUBE_API_TEST_SERVER_PATH, "--dir", dir_.c_str(), "--port", "0",
          "--bookmark-interval-ms", bookmarks.c_str(), "--history", history.c_str(), "--cert-manager",
          options.cert_manager.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (!wait_until([&] { return !read_file(dir_ + "/server").empty(); }))
    throw std::runtime_error("the API test server did not start: " + read_file(dir_ + "/server.log"));
  url_ = trim(read_file(dir_ + "/server"));
  token_ = trim(read_file(dir_ + "/token"));
}

TestServerProcess::~TestServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  const std::string command = "rm -rf '" + dir_ + "'";
  if (std::system(command.c_str()) != 0) { /* a leftover temp dir is harmless */ }
}

long TestServerProcess::put_tls_secret(const std::string& ns, const std::string& name,
                                       const std::string& crt_pem, const std::string& key_pem,
                                       const std::string& labels_json) {
  const std::string body =
      R"({"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls","metadata":{"name":")" + name +
      R"(","namespace":")" + ns + R"(","labels":)" + labels_json + R"(},"data":{"tls.crt":")" +
      base64_encode(crt_pem) + R"(","tls.key":")" + base64_encode(key_pem) + R"("}})";
  const std::string collection = "/api/v1/namespaces/" + ns + "/secrets";
  const long status = request("PUT", collection + "/" + name, body);
  return status == 404 ? request("POST", collection, body) : status;
}

long TestServerProcess::delete_secret(const std::string& ns, const std::string& name) {
  return request("DELETE", "/api/v1/namespaces/" + ns + "/secrets/" + name, "");
}

nlohmann::json TestServerProcess::counters() {
  std::string body;
  request("GET", "/testing/counters", "", &body);
  return nlohmann::json::parse(body);
}

void TestServerProcess::control(const std::string& path, const std::string& body) {
  const long status = request("POST", path, body);
  if (status < 200 || status > 299)
    throw std::runtime_error("POST " + path + " answered " + std::to_string(status));
}

void TestServerProcess::add_fault(const std::string& spec_json) { control("/testing/faults", spec_json); }

void TestServerProcess::clear_faults() { request("DELETE", "/testing/faults", ""); }

void TestServerProcess::rotate_token(const std::string& token) {
  control("/testing/token", R"({"token":")" + token + R"("})");
  token_ = token;
}

void TestServerProcess::compact() { control("/testing/compact", "{}"); }

void TestServerProcess::close_watches() { control("/testing/close-watches", "{}"); }

std::string TestServerProcess::log() const { return read_file(dir_ + "/server.log"); }

long TestServerProcess::request(const std::string& method, const std::string& path, const std::string& body,
                                std::string* response_body) {
  CURL* curl = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("Authorization: Bearer " + token_).c_str());
  const std::string url = url_ + path;
  const std::string ca = ca_file();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!body.empty()) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  std::string sink;
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, response_body != nullptr ? response_body : &sink);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
  });
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return status;
}

}  // namespace certsync::testing
