// SecretStore::save/restore: the store as JSON for --state, so that a test
// can stop the server and start it again on the same port with its data.
#include "store.h"

namespace kube_test {

Json SecretStore::save() const {
  std::lock_guard<std::mutex> lock(mu_);
  Json out;
  out["resourceVersion"] = current_rv_;
  out["compactedResourceVersion"] = compacted_rv_;
  Json objects = Json::array();
  for (const auto &kv : objects_) objects.push_back(kv.second);
  out["objects"] = objects;
  Json history = Json::array();
  for (const Event &e : history_) {
    history.push_back(Json{{"rv", e.rv},         {"type", e.type},
                           {"namespace", e.ns},  {"name", e.name},
                           {"object", e.object}, {"prev", e.prev}});
  }
  out["history"] = history;
  return out;
}

std::optional<std::string> SecretStore::restore(const Json &saved,
                                                bool keep_history) {
  if (!saved.is_object() || !saved.contains("resourceVersion") ||
      !saved["resourceVersion"].is_number_unsigned() ||
      !saved.contains("compactedResourceVersion") ||
      !saved["compactedResourceVersion"].is_number_unsigned() ||
      !saved.contains("objects") || !saved["objects"].is_array() ||
      !saved.contains("history") || !saved["history"].is_array()) {
    return std::string("the saved store lacks resourceVersion, "
                       "compactedResourceVersion, objects or history");
  }
  std::map<Key, Json> objects;
  for (const Json &obj : saved["objects"]) {
    if (!obj.contains("metadata") || !obj["metadata"].contains("name") ||
        !obj["metadata"].contains("namespace")) {
      return std::string("a saved object has no metadata.name/namespace");
    }
    objects[key_of(obj["metadata"]["namespace"].get<std::string>(),
                   obj["metadata"]["name"].get<std::string>())] = obj;
  }
  std::deque<Event> history;
  if (keep_history) {
    for (const Json &e : saved["history"]) {
      if (!e.is_object() || !e.contains("rv") || !e["rv"].is_number_unsigned())
        return std::string("a saved event has no rv");
      history.push_back({e["rv"].get<uint64_t>(), e.value("type", ""),
                         e.value("namespace", ""), e.value("name", ""),
                         e["object"], e["prev"]});
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  objects_ = std::move(objects);
  history_ = std::move(history);
  current_rv_ = saved["resourceVersion"].get<uint64_t>();
  compacted_rv_ = keep_history
                      ? saved["compactedResourceVersion"].get<uint64_t>()
                      : current_rv_;
  while (history_.size() > history_limit_) {
    compacted_rv_ = history_.front().rv;
    history_.pop_front();
  }
  return std::nullopt;
}

}  // namespace kube_test
