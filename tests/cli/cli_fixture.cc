#include "cli_fixture.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "util/base64.h"

namespace certsync::testing {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

TempDir::TempDir() {
  char pattern[] = "/tmp/certsync-cli-test.XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  const std::string command = "rm -rf '" + path_ + "'";
  if (std::system(command.c_str()) != 0) { /* a leftover temp dir is harmless */ }
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  const std::string path = path_ + "/" + name;
  std::ofstream file(path, std::ios::binary);
  file << content;
  return path;
}

PemPair make_pair(const std::vector<std::string>& dns_names) {
  const TestKey key = TestKey::generate(KeyKind::kEcP256);
  CertSpec spec;
  spec.common_name = dns_names.empty() ? "certsync cli test" : dns_names.front();
  spec.dns_names = dns_names;
  return {TestCert::issue(spec, key).pem(), key.pkcs8_pem()};
}

std::string kubeconfig_of(const TestServerProcess& server) { return server.dir() + "/kubeconfig"; }

std::string kubeconfig_with_server(const TestServerProcess& server, const TempDir& dir, const std::string& url) {
  std::string text = slurp(kubeconfig_of(server));
  const size_t at = text.find(server.url());
  REQUIRE(at != std::string::npos);
  text.replace(at, server.url().size(), url);
  return dir.write("moved.kubeconfig", text);
}

std::string kubeconfig_with_user(const TestServerProcess& server, const TempDir& dir, const std::string& user_yaml) {
  std::string text = slurp(kubeconfig_of(server));
  const size_t users = text.find("users:");
  const size_t contexts = text.find("contexts:");
  REQUIRE(users != std::string::npos);
  REQUIRE(contexts != std::string::npos);
  const size_t user = text.find("  user:\n", users);
  REQUIRE(user < contexts);
  text.replace(user, contexts - user, "  user:\n" + user_yaml);
  return dir.write("user.kubeconfig", text);
}

ClosedPort::ClosedPort() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    throw std::runtime_error("cannot bind a loopback port");
  port_ = ntohs(address.sin_port);
}

ClosedPort::~ClosedPort() {
  if (fd_ >= 0) close(fd_);
}

void require_no_secret(const std::string& text, const std::string& key_pem, const std::string& token) {
  CHECK(text.find("PRIVATE KEY") == std::string::npos);
  std::istringstream lines(key_pem);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() >= 16 && line.find("-----") == std::string::npos) CHECK(text.find(line) == std::string::npos);
  }
  // The Secret's data holds the key base64-encoded: no 24-character window of it may appear.
  const std::string encoded = base64_encode(key_pem);
  for (size_t at = 0; at + 24 <= encoded.size(); at += 24) CHECK(text.find(encoded.substr(at, 24)) == std::string::npos);
  if (!token.empty()) CHECK(text.find(token) == std::string::npos);
}

nlohmann::json parse_json(const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  INFO("output: " << text);
  REQUIRE(!json.is_discarded());
  return json;
}

}  // namespace certsync::testing
