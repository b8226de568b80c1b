#include "faults.h"

namespace kube_test {
namespace {

int int_field(const Json &spec, const char *name, int fallback) {
  auto it = spec.find(name);
  if (it == spec.end() || !it->is_number_integer()) return fallback;
  return it->get<int>();
}

}  // namespace

std::optional<std::string> Faults::add(const Json &spec) {
  if (spec.is_array()) {
    for (const Json &one : spec) {
      if (auto err = add_one(one)) return err;
    }
    return std::nullopt;
  }
  return add_one(spec);
}

std::optional<std::string> Faults::add_one(const Json &spec) {
  if (!spec.is_object()) return "a fault is a JSON object";
  Fault f;
  f.hit.status = int_field(spec, "status", 0);
  f.hit.retry_after = int_field(spec, "retry_after", 0);
  f.hit.stall_ms = int_field(spec, "stall_ms", 0);
  f.hit.drop_after_events = int_field(spec, "drop_after_events", -1);
  f.remaining = int_field(spec, "count", 1);
  if (f.hit.status != 0 && (f.hit.status < 400 || f.hit.status > 599)) {
    return "status must be a 4xx or 5xx code";
  }
  if (f.hit.status == 0 && f.hit.stall_ms <= 0 &&
      f.hit.drop_after_events < 0) {
    return "a fault needs status, stall_ms or drop_after_events";
  }
  if (f.remaining == 0 || f.remaining < -1) return "count must be >= 1 or -1";
  if (spec.contains("verbs")) {
    if (!spec["verbs"].is_array()) return "verbs must be an array";
    for (const Json &v : spec["verbs"]) {
      auto kind = v.is_string() ? request_kind_from_name(v.get<std::string>())
                                : std::nullopt;
      if (!kind) return "unknown verb " + v.dump();
      f.kinds.insert(*kind);
    }
  } else if (f.hit.drop_after_events >= 0) {
    f.kinds = {RequestKind::kWatch};
  } else {
    f.kinds = {RequestKind::kList, RequestKind::kWatch};
  }
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(f);
  return std::nullopt;
}

void Faults::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.clear();
}

std::optional<FaultHit> Faults::take(RequestKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->kinds.count(kind) == 0) continue;
    FaultHit hit = it->hit;
    if (it->remaining > 0 && --it->remaining == 0) queue_.erase(it);
    return hit;
  }
  return std::nullopt;
}

Json Faults::describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  Json out = Json::array();
  for (const Fault &f : queue_) {
    Json j;
    if (f.hit.status != 0) j["status"] = f.hit.status;
    if (f.hit.retry_after != 0) j["retry_after"] = f.hit.retry_after;
    if (f.hit.stall_ms != 0) j["stall_ms"] = f.hit.stall_ms;
    if (f.hit.drop_after_events >= 0) {
      j["drop_after_events"] = f.hit.drop_after_events;
    }
    j["count"] = f.remaining;
    Json verbs = Json::array();
    for (RequestKind k : f.kinds) verbs.push_back(request_kind_name(k));
    j["verbs"] = verbs;
    out.push_back(j);
  }
  return out;
}

}  // namespace kube_test
