#include "kube/config_files.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace certsync::kube {

namespace {

// A file descriptor closed on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// O_NONBLOCK keeps a FIFO with no writer from hanging the caller; it changes
// nothing for regular files.
int open_for_reading(const std::string& path, int& err) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  err = fd < 0 ? errno : 0;
  return fd;
}

// Opens `path` for reading and refuses a directory. Returns the descriptor
// (with `st` filled in), or -1 with `err` set.
int open_not_directory(const std::string& path, struct stat& st, int& err) {
  const int fd = open_for_reading(path, err);
  if (fd < 0) return -1;
  if (::fstat(fd, &st) != 0) err = errno;
  else if (S_ISDIR(st.st_mode)) err = EISDIR;
  else return fd;
  ::close(fd);
  return -1;
}

// strerror_r comes in a GNU (returns char*) and an XSI (returns int) flavour.
[[maybe_unused]] const char* strerror_result(char* result, const char*) { return result; }
[[maybe_unused]] const char* strerror_result(int result, const char* buffer) {
  return result == 0 ? buffer : "unknown error";
}

}  // namespace

int check_readable(const std::string& path) noexcept {
  int err = 0;
  struct stat st {};
  Fd fd(open_not_directory(path, st, err));
  return fd.get() < 0 ? err : 0;
}

int read_file_bounded(const std::string& path, size_t max_bytes, std::string& out) {
  cleanse_string(out);
  int err = 0;
  struct stat st {};
  Fd fd(open_not_directory(path, st, err));
  if (fd.get() < 0) return err;
  // Reserve up front so the buffer never reallocates and leaves copies behind.
  if (S_ISREG(st.st_mode)) {
    if (static_cast<unsigned long long>(st.st_size) > max_bytes) return EFBIG;
    out.reserve(static_cast<size_t>(st.st_size) + 1);
  }
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int read_err = errno;
      OPENSSL_cleanse(chunk, sizeof chunk);
      cleanse_string(out);
      return read_err;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      OPENSSL_cleanse(chunk, sizeof chunk);
      cleanse_string(out);
      return EFBIG;
    }
    out.append(chunk, static_cast<size_t>(n));
  }
  OPENSSL_cleanse(chunk, sizeof chunk);
  return 0;
}

std::string errno_text(int err) {
  char buffer[256] = {0};
  return strerror_result(strerror_r(err, buffer, sizeof buffer), buffer);
}

void cleanse_string(std::string& text) noexcept {
  if (!text.empty()) OPENSSL_cleanse(&text[0], text.size());
  text.clear();
}

}  // namespace certsync::kube
