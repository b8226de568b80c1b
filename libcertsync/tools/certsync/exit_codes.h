// The exit codes of every verb. Scripts key on them, so they are a stable
// interface: add new ones, never renumber. Documented in `certsync --help`
// (kExitCodeHelp below) and in docs/cli.md.
#pragma once

#include <stdexcept>
#include <string>

namespace certsync::cli {

enum ExitCode : int {
  kOk = 0,           // accepted (or deferred: accepted, served from notBefore); probe: served = expected
  kRefused = 1,      // the validator refused the bundle (a reason code says why)
  kUsage = 2,        // bad command line: unknown verb or flag, missing or malformed value, unreadable input file
  kMismatch = 3,     // probe: the served leaf is not the Secret's (or did not verify with --require-verified)
  kUnreachable = 4,  // network or API error: connection, TLS, 401, 403, 5xx, timeout; watch: never synced
  kNotFound = 5,     // the Secret does not exist (404), or holds no tls.crt and tls.key
  kConfig = 6,       // the connection source cannot be used: kubeconfig missing or invalid, exec user, in-cluster files
  kInternal = 7,     // a bug in certsync: please report it
};

inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  accepted (check, inspect), matching (probe), or watch stopped by a signal after its first sync\n"
    "  1  refused: the bundle fails validation; the reason code says why\n"
    "  2  usage: unknown verb or flag, missing or malformed value, unreadable input file\n"
    "  3  mismatch: probe saw a different leaf than the Secret's (or, with --require-verified,\n"
    "     a chain that does not verify against --ca); explain: a link of the name's chain is broken\n"
    "  4  unreachable: connection, TLS or API error (401, 403, 5xx, timeout); watch: never synced\n"
    "  5  not found: no such Secret (HTTP 404), or it holds no tls.crt and tls.key;\n"
    "     explain: no watched Secret covers the name\n"
    "  6  config: the kubeconfig or in-cluster configuration cannot be used (e.g. an exec user)\n"
    "  7  internal error: a bug in certsync\n";

// A verb that cannot reach a verdict throws this; main() prints the message
// (never key material: callers build it from names, paths and API replies)
// and exits with `code`.
class Failure : public std::runtime_error {
 public:
  Failure(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

}  // namespace certsync::cli
