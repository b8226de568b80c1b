#include "output_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base64.h"

namespace kube_test {
namespace {

// YAML double-quoted scalar: safe for any token a test may choose.
std::string yaml_quote(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

bool write_file_atomically(const std::string &path, const std::string &content,
                           unsigned mode) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  static_cast<mode_t>(mode));
  if (fd < 0) return false;
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = saved;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0 || ::close(fd) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return false;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return false;
  }
  return true;
}

std::string kubeconfig_yaml(const std::string &server_url,
                            const std::string &ca_pem,
                            const std::string &token) {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: kube-api-test-server\n"
         "  cluster:\n"
         "    server: " + server_url + "\n"
         "    certificate-authority-data: " + base64_encode(ca_pem) + "\n"
         "users:\n"
         "- name: kube-api-test-user\n"
         "  user:\n"
         "    token: " + yaml_quote(token) + "\n"
         "contexts:\n"
         "- name: kube-api-test\n"
         "  context:\n"
         "    cluster: kube-api-test-server\n"
         "    user: kube-api-test-user\n"
         "    namespace: default\n"
         "current-context: kube-api-test\n";
}

}  // namespace kube_test
