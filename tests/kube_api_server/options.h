// Command line of kube-api-test-server.
#pragma once

#include <optional>
#include <string>

namespace kube_test {

struct Options {
  std::string dir;                 // --dir DIR (required)
  int port = 0;                    // --port N; 0: the kernel picks one
  std::string token;               // --token T; empty: random
  long bookmark_interval_ms = 60000;  // --bookmark-interval-ms N
  size_t history_limit = 1000;     // --history N: events kept for watches
  // --cert-manager absent|served|forbidden: whether cert-manager's
  // Certificate CRD is installed (absent: 404, as on a cluster without it)
  // and whether the token may list and watch it (forbidden: 403).
  std::string cert_manager = "absent";
  std::string state_file;          // --state FILE: kept across restarts
  bool forget_history = false;     // --forget-history: load --state without its events
  bool new_tls = false;            // --new-tls: a fresh CA even when --state has one
  std::string faults;              // --faults JSON: queued before the first request
};

const char *usage();

// nullopt with `error` set on a bad command line; `help` set for --help.
std::optional<Options> parse_options(int argc, char **argv, std::string &error,
                                     bool &help);

}  // namespace kube_test
