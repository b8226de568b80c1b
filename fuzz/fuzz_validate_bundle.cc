// libFuzzer target: tls::validate_bundle() on arbitrary tls.crt / tls.key /
// ca.crt / options. The input layout and the invariants checked are those of
// certsync::fuzz::run_validate_bundle (tests/unit/fuzz_entry_points.h).
#include <cstdio>
#include <cstdlib>

#include "fuzz_entry_points.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string problem = certsync::fuzz::run_validate_bundle(data, size);
  if (!problem.empty()) {
    std::fprintf(stderr, "fuzz_validate_bundle: invariant broken: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
