#include "faults.h"

#include <vector>

namespace kube_test {
namespace {

// Every field a fault spec may have: anything else is a typo to refuse.
const char *const kKnownFields[] = {
    "verbs",        "verb",
    "count",        "status",
    "retry_after",  "stall_ms",
    "drip_bytes",   "drip_interval_ms",
    "stall_after_headers",
    "drop_after_events",
    "oversize_event_bytes",
    "unknown_event_type"};

// The largest oversize event a test may ask for: big enough for any client
// cap worth testing, small enough not to exhaust the machine.
constexpr int kMaxOversizeEventBytes = 256 * 1024 * 1024;

// An integer field: absent gives `fallback`, anything but an integer in
// [min, max] is an error.
std::optional<std::string> int_field(const Json &spec, const char *name,
                                     int min, int max, int fallback, int &out) {
  out = fallback;
  auto it = spec.find(name);
  if (it == spec.end()) return std::nullopt;
  if (!it->is_number_integer() || it->get<long long>() < min ||
      it->get<long long>() > max) {
    return std::string(name) + " must be an integer in [" +
           std::to_string(min) + ", " + std::to_string(max) + "]";
  }
  out = static_cast<int>(it->get<long long>());
  return std::nullopt;
}

std::optional<std::string> add_verb(const Json &v, std::set<RequestKind> &to) {
  auto kind = v.is_string() ? request_kind_from_name(v.get<std::string>())
                            : std::nullopt;
  if (!kind) return "unknown verb " + v.dump();
  to.insert(*kind);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Faults::parse(const Json &spec, Fault &f) {
  if (!spec.is_object()) return "a fault is a JSON object";
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    bool known = false;
    for (const char *k : kKnownFields) known = known || it.key() == k;
    if (!known) return "unknown fault field \"" + it.key() + "\"";
  }
  FaultHit &h = f.hit;
  constexpr int kMax = 1 << 30;
  struct IntField {
    const char *name;
    int min, max, fallback;
    int *out;
  };
  const IntField int_fields[] = {
      {"status", 400, 599, 0, &h.status},
      {"retry_after", 0, 86400, 0, &h.retry_after},
      {"stall_ms", 0, kMax, 0, &h.stall_ms},
      {"drop_after_events", 0, kMax, -1, &h.drop_after_events},
      {"drip_bytes", 1, kMax, 0, &h.drip_bytes},
      {"drip_interval_ms", 0, 60000, 50, &h.drip_interval_ms},
      {"oversize_event_bytes", 1, kMaxOversizeEventBytes, 0,
       &h.oversize_event_bytes},
      {"count", -1, kMax, 1, &f.remaining},
  };
  for (const IntField &field : int_fields) {
    std::optional<std::string> err = int_field(
        spec, field.name, field.min, field.max, field.fallback, *field.out);
    if (err) return err;
  }
  if (f.remaining == 0) return "count must be >= 1 or -1";
  if (spec.contains("drip_interval_ms") && h.drip_bytes == 0) {
    return "drip_interval_ms needs drip_bytes";
  }
  if (spec.contains("stall_after_headers")) {
    if (!spec["stall_after_headers"].is_boolean()) {
      return "stall_after_headers must be true or false";
    }
    h.stall_after_headers = spec["stall_after_headers"].get<bool>();
  }
  if (spec.contains("unknown_event_type")) {
    const Json &t = spec["unknown_event_type"];
    if (!t.is_string() || t.get<std::string>().empty()) {
      return "unknown_event_type must be a non-empty string";
    }
    h.unknown_event_type = t.get<std::string>();
  }
  const bool watch_only = h.drop_after_events >= 0 ||
                          h.oversize_event_bytes > 0 ||
                          !h.unknown_event_type.empty();
  if (h.status == 0 && h.stall_ms == 0 && h.drip_bytes == 0 &&
      !h.stall_after_headers && !watch_only) {
    return "a fault needs status, stall_ms, drip_bytes, stall_after_headers, "
           "drop_after_events, oversize_event_bytes or unknown_event_type";
  }

  if (spec.contains("verbs") && spec.contains("verb")) {
    return "give verbs or verb, not both";
  }
  if (spec.contains("verbs")) {
    if (!spec["verbs"].is_array() || spec["verbs"].empty()) {
      return "verbs must be a non-empty array";
    }
    for (const Json &v : spec["verbs"]) {
      if (auto err = add_verb(v, f.kinds)) return err;
    }
  } else if (spec.contains("verb")) {
    if (auto err = add_verb(spec["verb"], f.kinds)) return err;
  } else if (watch_only || h.stall_after_headers) {
    f.kinds = {RequestKind::kWatch};
  } else {
    f.kinds = {RequestKind::kList, RequestKind::kWatch};
  }
  if (watch_only && f.kinds.count(RequestKind::kWatch) == 0) {
    return "drop_after_events, oversize_event_bytes and unknown_event_type "
           "only apply to watch";
  }
  return std::nullopt;
}

std::optional<std::string> Faults::add(const Json &spec) {
  std::vector<Fault> parsed;
  if (spec.is_array()) {
    if (spec.empty()) return "an empty array of faults";
    for (const Json &one : spec) {
      parsed.emplace_back();
      if (auto err = parse(one, parsed.back())) return err;
    }
  } else {
    parsed.emplace_back();
    if (auto err = parse(spec, parsed.back())) return err;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (Fault &f : parsed) queue_.push_back(std::move(f));
  return std::nullopt;
}

void Faults::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.clear();
  ++clears_;
}

std::optional<FaultHit> Faults::take(RequestKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->kinds.count(kind) == 0) continue;
    FaultHit hit = it->hit;
    hit.clears_at_fire = clears_.load();
    if (it->remaining > 0 && --it->remaining == 0) queue_.erase(it);
    return hit;
  }
  return std::nullopt;
}

Json Faults::describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  Json out = Json::array();
  for (const Fault &f : queue_) {
    const FaultHit &h = f.hit;
    Json j;
    if (h.status != 0) j["status"] = h.status;
    if (h.retry_after != 0) j["retry_after"] = h.retry_after;
    if (h.stall_ms != 0) j["stall_ms"] = h.stall_ms;
    if (h.drop_after_events >= 0) j["drop_after_events"] = h.drop_after_events;
    if (h.drip_bytes != 0) {
      j["drip_bytes"] = h.drip_bytes;
      j["drip_interval_ms"] = h.drip_interval_ms;
    }
    if (h.stall_after_headers) j["stall_after_headers"] = true;
    if (h.oversize_event_bytes != 0) {
      j["oversize_event_bytes"] = h.oversize_event_bytes;
    }
    if (!h.unknown_event_type.empty()) {
      j["unknown_event_type"] = h.unknown_event_type;
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
