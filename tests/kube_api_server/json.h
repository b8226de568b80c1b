// One JSON type for the whole server.
//
// ordered_json keeps keys in insertion order, so the bodies we build
// (Status, Secret, SecretList, watch events) come out in the same field order
// as a real kube-apiserver's Go structs: easier to diff against the recorded
// samples in fixtures/kube-api-samples.
#pragma once

#include <nlohmann/json.hpp>

namespace kube_test {
using Json = nlohmann::ordered_json;
}  // namespace kube_test
