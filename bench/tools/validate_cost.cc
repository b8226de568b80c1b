// validate_cost: what validating one Secret's bundle costs the watcher
// thread, per key type, in steady state (the first call, which loads
// OpenSSL's providers, is left out).
//
//   validate_cost CERT KEY [iterations]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>

#include "tls/validate.h"

namespace {
std::string slurp(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CERT KEY [iterations]\n", argv[0]);
    return 2;
  }
  const std::string cert = slurp(argv[1]);
  const std::string key = slurp(argv[2]);
  const int iterations = argc > 3 ? std::atoi(argv[3]) : 200;
  certsync::tls::ValidationOptions options;
  auto first = certsync::tls::validate_bundle(cert, key, options);
  if (!std::holds_alternative<certsync::tls::ValidBundle>(first)) {
    std::fprintf(stderr, "refused: %s\n", std::get<certsync::tls::Refusal>(first).code.c_str());
    return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) certsync::tls::validate_bundle(cert, key, options);
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started).count();
  std::printf("%.1f us per bundle (%d iterations)\n", us / iterations, iterations);
  return 0;
}
