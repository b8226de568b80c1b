#include "test_server_process.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

TestServerProcess::TestServerProcess(Options options) : options_(options) {
  char pattern[] = "/tmp/certsync-itest.XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  pid_ = spawn(dir_, base_args());
  url_ = trim(read_file(dir_ + "/server"));
  port_ = std::stoi(trim(read_file(dir_ + "/port")));
  token_ = trim(read_file(dir_ + "/token"));
}

std::vector<std::string> TestServerProcess::base_args() const {
  std::vector<std::string> args = {"--bookmark-interval-ms", std::to_string(options_.bookmark_interval_ms),
                                   "--history", std::to_string(options_.history), "--cert-manager",
                                   options_.cert_manager};
  if (options_.restartable) args.insert(args.end(), {"--state", dir_ + "/state.json"});
  return args;
}

pid_t TestServerProcess::spawn(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {KUBE_API_TEST_SERVER_PATH, "--dir", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  if (std::find(args.begin(), args.end(), "--port") == args.end()) argv.insert(argv.end(), {"--port", "0"});
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string log = dir + "/server.log";
    // Appended: a restarted server's lines follow the first run's.
    FILE* out = std::freopen(log.c_str(), "a", stderr);
    (void)out;
    std::vector<char*> raw;
    for (auto& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    execv(KUBE_API_TEST_SERVER_PATH, raw.data());
    _exit(127);
  }
  if (!wait_until([&] { return !read_file(dir + "/server").empty(); }))
    throw std::runtime_error("the API test server did not start: " + read_file(dir + "/server.log"));
  return pid;
}

void TestServerProcess::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void TestServerProcess::start_again(Comeback how) {
  if (!options_.restartable) throw std::runtime_error("start_again needs Options::restartable");
  stop();
  std::vector<std::string> args = base_args();
  args.insert(args.end(), {"--port", std::to_string(port_), "--token", token_});
  if (how.forget_history) args.push_back("--forget-history");
  if (how.new_tls) args.push_back("--new-tls");
  // The port was ours a moment ago; another process taking it meanwhile is
  // unlikely but would show as a failure to start, not a silent mix-up.
  pid_ = spawn(dir_, args);
}

void TestServerProcess::write_through_peer(const std::function<void()>& writes) {
  if (!options_.restartable || pid_ > 0) throw std::runtime_error("write_through_peer needs a stopped restartable server");
  const std::string peer_dir = dir_ + "/peer";
  std::vector<std::string> args = base_args();
  args.insert(args.end(), {"--token", token_});
  const pid_t peer = spawn(peer_dir, args);
  const std::string own_url = url_;
  url_ = trim(read_file(peer_dir + "/server"));  // same CA (the state's), another port
  try {
    writes();
  } catch (...) {
    url_ = own_url;
    kill(peer, SIGTERM);
    waitpid(peer, nullptr, 0);
    throw;
  }
  url_ = own_url;
  kill(peer, SIGTERM);  // saves the state this server loads when it comes back
  waitpid(peer, nullptr, 0);
}

TestServerProcess::~TestServerProcess() {
  stop();
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

nlohmann::json TestServerProcess::get_json(const std::string& path) {
  std::string body;
  if (request("GET", path, "", &body) != 200) return nullptr;
  return nlohmann::json::parse(body, nullptr, false);
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
