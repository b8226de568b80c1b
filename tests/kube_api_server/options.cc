#include "options.h"

#include <cstdlib>

namespace kube_test {
namespace {

bool to_long(const std::string &s, long min, long max, long &out) {
  if (s.empty()) return false;
  char *end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (*end != '\0' || v < min || v > max) return false;
  out = v;
  return true;
}

}  // namespace

const char *usage() {
  return "usage: kube-api-test-server --dir DIR [--port 0] [--token TOKEN]\n"
         "                            [--bookmark-interval-ms 60000] "
         "[--history 1000]\n"
         "                            [--cert-manager absent|served|forbidden]\n"
         "                            [--state FILE [--forget-history] "
         "[--new-tls]]\n"
         "                            [--faults JSON]\n"
         "\n"
         "An HTTPS Kubernetes API server for Secrets (and cert-manager\n"
         "Certificates with --cert-manager served), for tests and demos.\n"
         "Writes into DIR: ca.crt, server.crt, token, kubeconfig, pid, and,\n"
         "once it listens, port and server (the URL; poll for this one).\n"
         "Stops on SIGTERM or SIGINT. --state FILE: the Secrets, the\n"
         "resourceVersions, the history and the TLS identity are saved there\n"
         "at exit and loaded at start (--forget-history: without the history,\n"
         "so older resourceVersions get 410; --new-tls: a new CA and server\n"
         "certificate). --faults: queued before the first request, as by\n"
         "POST /testing/faults.\n";
}

std::optional<Options> parse_options(int argc, char **argv, std::string &error,
                                     bool &help) {
  Options o;
  help = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    // Both "--flag value" and "--flag=value".
    auto eq = arg.find('=');
    bool inline_value = arg.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inline_value) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto take = [&](std::string &out) {
      if (inline_value) {
        out = value;
        return true;
      }
      if (i + 1 >= argc) {
        error = arg + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    if (arg == "-h" || arg == "--help") {
      help = true;
      return std::nullopt;
    } else if (arg == "--dir") {
      if (!take(o.dir)) return std::nullopt;
    } else if (arg == "--token") {
      if (!take(o.token)) return std::nullopt;
    } else if (arg == "--cert-manager") {
      if (!take(o.cert_manager)) return std::nullopt;
      if (o.cert_manager != "absent" && o.cert_manager != "served" &&
          o.cert_manager != "forbidden") {
        error = "bad value for --cert-manager: " + o.cert_manager +
                " (absent, served or forbidden)";
        return std::nullopt;
      }
    } else if (arg == "--faults") {
      if (!take(o.faults)) return std::nullopt;
    } else if (arg == "--state") {
      if (!take(o.state_file)) return std::nullopt;
    } else if (arg == "--forget-history" && !inline_value) {
      o.forget_history = true;
    } else if (arg == "--new-tls" && !inline_value) {
      o.new_tls = true;
    } else if (arg == "--port" || arg == "--bookmark-interval-ms" ||
               arg == "--history") {
      std::string text;
      if (!take(text)) return std::nullopt;
      long v = 0;
      if (arg == "--port" && to_long(text, 0, 65535, v)) {
        o.port = static_cast<int>(v);
      } else if (arg == "--bookmark-interval-ms" &&
                 to_long(text, 1, 24L * 3600 * 1000, v)) {
        o.bookmark_interval_ms = v;
      } else if (arg == "--history" && to_long(text, 1, 10000000, v)) {
        o.history_limit = static_cast<size_t>(v);
      } else {
        error = "bad value for " + arg + ": " + text;
        return std::nullopt;
      }
    } else {
      error = "unknown argument: " + arg;
      return std::nullopt;
    }
  }
  if (o.dir.empty()) {
    error = "--dir is required";
    return std::nullopt;
  }
  if ((o.forget_history || o.new_tls) && o.state_file.empty()) {
    error = "--forget-history and --new-tls need --state";
    return std::nullopt;
  }
  return o;
}

}  // namespace kube_test
