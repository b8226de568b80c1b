// The exchanges recorded from a real kube-apiserver v1.26.5
// (fixtures/kube-api-samples): NN-name.headers holds the status line and the
// headers as received, NN-name.body the body.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kube_test_client {

struct RecordedExchange {
  std::string name;      // "05-create-conflict"
  std::string protocol;  // "HTTP/2" or "HTTP/1.1"
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string &lower_case_name) const;
  // The body as JSON; FAILs the test when it is not.
  nlohmann::json json() const;
};

// Where the samples are: $CERTSYNC_KUBE_API_SAMPLES, else the copy in the
// repository the build was configured with (KUBE_API_SAMPLES_DIR). CTest
// sets the variable to run the conformance cases against another copy.
std::string samples_dir();

// The recordings in samples_dir(), by name ("05-create-conflict"), sorted:
// one per file stem, README.md and dot files left out. Empty when the
// directory is missing.
std::vector<std::string> recorded_names();

// Loads one exchange; FAILs the test with a message naming the directory
// when the samples are not there (a missing reference is a failure, never
// a skip).
RecordedExchange load_exchange(const std::string &name);

}  // namespace kube_test_client
