#include "server_under_test.h"

#include "client_text.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#ifndef KUBE_API_TEST_SERVER_PATH
#error "KUBE_API_TEST_SERVER_PATH must name the kube-api-test-server binary"
#endif

namespace kube_test_client {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The binary under test: $CERTSYNC_KUBE_API_TEST_SERVER (e.g. a sanitizer
// build, or an older version to compare), else the one built with the test.
std::string server_binary() {
  const char *env = std::getenv("CERTSYNC_KUBE_API_TEST_SERVER");
  return env != nullptr && *env != '\0' ? env : KUBE_API_TEST_SERVER_PATH;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// libcurl's User-Agent for its own version: the server then records
// managedFields under "curl" and pretty-prints, as in the recordings (made
// with the curl tool).
std::string user_agent() {
  return std::string("curl/") + curl_version_info(CURLVERSION_NOW)->version;
}

struct Transfer {
  HttpResponse *res;
  Clock::time_point start;
};

size_t on_header(char *data, size_t size, size_t n, void *user) {
  auto *t = static_cast<Transfer *>(user);
  const std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after a 100 Continue, say): start over.
    t->res->headers.clear();
    t->res->protocol = line.substr(0, line.find(' '));
  } else if (line.find(':') != std::string::npos) {
    const size_t colon = line.find(':');
    t->res->headers.emplace_back(lower(trim(line.substr(0, colon))),
                                 trim(line.substr(colon + 1)));
  }
  return size * n;
}

size_t on_body(char *data, size_t size, size_t n, void *user) {
  auto *t = static_cast<Transfer *>(user);
  t->res->body.append(data, size * n);
  t->res->pieces.emplace_back(
      std::chrono::duration_cast<milliseconds>(Clock::now() - t->start),
      size * n);
  return size * n;
}

}  // namespace

std::string HttpResponse::header(const std::string &name) const {
  const std::string want = lower(name);
  for (const auto &[k, v] : headers) {
    if (k == want) return v;
  }
  return "";
}

bool HttpResponse::has_header(const std::string &name) const {
  const std::string want = lower(name);
  for (const auto &kv : headers) {
    if (kv.first == want) return true;
  }
  return false;
}

ServerUnderTest::ServerUnderTest(std::vector<std::string> extra_args) {
  init_curl_once();
  char tmpl[] = "/tmp/kube-api-server-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) FAIL("mkdtemp failed");
  work_dir_ = tmpl;
  dir_ = work_dir_ + "/srv";
  token_ = "conformance-token-" + std::to_string(::getpid());
  const std::string log_path = work_dir_ + "/server.log";

  std::vector<std::string> args = {server_binary(), "--dir", dir_, "--token",
                                   token_};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char *> argv;
  for (std::string &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ == 0) {
    // Only async-signal-safe calls between fork and exec.
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (pid_ < 0) FAIL("fork failed");

  const auto deadline = Clock::now() + std::chrono::seconds(10);
  std::string why;
  while (true) {
    const std::string server = trim(read_file(dir_ + "/server"));
    if (!server.empty()) {
      url_ = server;
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      why = "kube-api-test-server exited during startup";
      break;
    }
    if (Clock::now() >= deadline) {
      why = "kube-api-test-server did not write DIR/server within 10 s";
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  const std::string server_log = log();
  stop(milliseconds(1000));
  std::filesystem::remove_all(work_dir_);
  FAIL(why << " (" << server_binary() << ")\n" << server_log);
}

ServerUnderTest::~ServerUnderTest() {
  const int status = stop();
  const std::string server_log = log();
  std::error_code ignored;
  std::filesystem::remove_all(work_dir_, ignored);
  if (std::uncaught_exceptions() == 0) {
    // Every test also proves a clean exit (SIGTERM with watches open) and,
    // in a sanitizer build, no report.
    INFO("server log:\n" << server_log);
    CHECK(status == 0);
    CHECK(server_log.find("runtime error:") == std::string::npos);
    CHECK(server_log.find("Sanitizer") == std::string::npos);
  }
}

int ServerUnderTest::stop(milliseconds deadline) {
  if (pid_ <= 0) return exit_status_;
  ::kill(pid_, SIGTERM);
  const auto until = Clock::now() + deadline;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) != pid_) {
    if (Clock::now() >= until) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      exit_status_ = -1;
      return exit_status_;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  pid_ = -1;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return exit_status_;
}

std::string ServerUnderTest::log() const {
  return read_file(work_dir_ + "/server.log");
}

HttpResponse ServerUnderTest::request(const HttpRequest &req) const {
  HttpResponse res;
  Transfer transfer{&res, Clock::now()};
  CURL *curl = curl_easy_init();
  if (curl == nullptr) {
    res.curl_code = -1;
    res.curl_error = "curl_easy_init failed";
    return res;
  }
  const std::string url = url_ + req.path;
  const std::string ca = dir_ + "/ca.crt";
  const std::string agent = user_agent();
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  if (req.raw_chunks)
    curl_easy_setopt(curl, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
  if (req.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (!req.body.empty() || req.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(req.body.size()));
  }

  std::vector<std::string> lines = req.headers;
  if (req.token.empty()) {
    lines.push_back("Authorization: Bearer " + token_);
  } else if (req.token != "-") {
    lines.push_back("Authorization: Bearer " + req.token);
  }
  if (!req.content_type.empty()) {
    lines.push_back("Content-Type: " + req.content_type);
  }
  lines.push_back("Expect:");  // no 100-continue round trip
  curl_slist *list = nullptr;
  for (const std::string &h : lines) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);

  const CURLcode rc = curl_easy_perform(curl);
  res.curl_code = static_cast<int>(rc);
  if (rc != CURLE_OK) {
    res.curl_error = error[0] != '\0' ? error : curl_easy_strerror(rc);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res.status);
  res.elapsed =
      std::chrono::duration_cast<milliseconds>(Clock::now() - transfer.start);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return res;
}

HttpResponse ServerUnderTest::get(const std::string &path) const {
  HttpRequest req;
  req.path = path;
  return request(req);
}

HttpResponse ServerUnderTest::send_json(const std::string &method,
                                        const std::string &path,
                                        const nlohmann::json &body) const {
  HttpRequest req;
  req.method = method;
  req.path = path;
  req.body = body.dump();
  req.content_type = "application/json";
  return request(req);
}

nlohmann::json ServerUnderTest::control(const std::string &method,
                                        const std::string &path,
                                        const std::string &body) const {
  HttpRequest req;
  req.method = method;
  req.path = path;
  req.body = body;
  req.token = "-";
  HttpResponse res = request(req);
  INFO(method << " " << path << " " << body << " -> " << res.status << " "
              << res.curl_error << "\n"
              << res.body);
  REQUIRE(res.status >= 200);
  REQUIRE(res.status < 300);
  return nlohmann::json::parse(res.body);
}

bool ServerUnderTest::wait_for_open_watches(long n) const {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    HttpRequest req;
    req.path = "/testing/counters";
    req.token = "-";
    const HttpResponse res = request(req);
    if (res.status == 200) {
      const auto counters = nlohmann::json::parse(res.body, nullptr, false);
      if (counters.is_object() && counters.value("open_watches", -1L) >= n) {
        return true;
      }
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

Chunks split_chunks(const std::string &raw) {
  Chunks out;
  size_t pos = 0;
  while (pos < raw.size()) {
    const size_t eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) {
      out.error =
          "a chunk size line without CRLF at byte " + std::to_string(pos);
      return out;
    }
    const std::string size_text = raw.substr(pos, eol - pos);
    size_t size = 0;
    try {
      size_t used = 0;
      size = std::stoul(size_text, &used, 16);
      if (used != size_text.size()) throw std::invalid_argument(size_text);
    } catch (const std::exception &) {
      out.error = "a bad chunk size \"" + size_text + "\"";
      return out;
    }
    pos = eol + 2;
    if (size == 0) {
      out.terminated = raw.compare(pos, 2, "\r\n") == 0;
      if (!out.terminated) out.error = "no CRLF after the last chunk";
      if (pos + 2 < raw.size()) out.error = "bytes after the last chunk";
      return out;
    }
    if (pos + size + 2 > raw.size() ||
        raw.compare(pos + size, 2, "\r\n") != 0) {
      out.error = "a chunk of " + std::to_string(size) +
                  " bytes is cut short or lacks its CRLF";
      return out;
    }
    out.payloads.push_back(raw.substr(pos, size));
    pos += size + 2;
  }
  return out;
}

std::vector<nlohmann::json> watch_events(const std::string &body) {
  std::vector<nlohmann::json> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto event = nlohmann::json::parse(line, nullptr, false);
    out.push_back(event.is_discarded() ? nlohmann::json(line) : event);
  }
  return out;
}

}  // namespace kube_test_client
