// libFuzzer target: nlohmann::json::parse (no exceptions), then
// kube::decode_secret() and cleanse_secret_data(). The invariants checked are
// those of certsync::fuzz::run_secret_json (tests/unit/fuzz_entry_points.h).
#include <cstdio>
#include <cstdlib>

#include "fuzz_entry_points.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string problem = certsync::fuzz::run_secret_json(data, size);
  if (!problem.empty()) {
    std::fprintf(stderr, "fuzz_secret_json: invariant broken: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
