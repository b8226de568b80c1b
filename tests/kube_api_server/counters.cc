#include "counters.h"

namespace kube_test {

void Counters::count(RequestKind kind) {
  by_kind_[static_cast<size_t>(kind)]++;
}

Json Counters::snapshot() const {
  Json j;
  for (size_t i = 0; i < kRequestKindCount; ++i) {
    j[request_kind_name(static_cast<RequestKind>(i))] = by_kind_[i].load();
  }
  j["unauthorized"] = unauthorized_.load();
  j["faults"] = faults_.load();
  j["open_watches"] = open_watches_.load();
  return j;
}

void Counters::reset() {
  for (auto &c : by_kind_) c = 0;
  unauthorized_ = 0;
  faults_ = 0;
}

}  // namespace kube_test
