#include "merge_patch.h"

#include <string>

namespace kube_test {
namespace {

bool is_directive(const std::string &key) {
  return !key.empty() && key[0] == '$';
}

// A patch value stored as-is must not carry directives into the object.
Json strip_directives(const Json &value) {
  if (!value.is_object()) return value;
  Json out = Json::object();
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (is_directive(it.key()) || it.value().is_null()) continue;
    out[it.key()] = strip_directives(it.value());
  }
  return out;
}

}  // namespace

Json apply_merge_patch(const Json &target, const Json &patch,
                       PatchFlavour flavour) {
  if (!patch.is_object()) return patch;
  bool strategic = flavour == PatchFlavour::kStrategicMerge;
  if (strategic && patch.contains("$patch") && patch["$patch"].is_string()) {
    const std::string directive = patch["$patch"].get<std::string>();
    if (directive == "replace") return strip_directives(patch);
    if (directive == "delete") return Json();  // caller erases null members
  }
  Json result = target.is_object() ? target : Json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string &key = it.key();
    if (strategic && is_directive(key)) continue;
    if (it.value().is_null()) {
      result.erase(key);
      continue;
    }
    Json merged = apply_merge_patch(
        result.contains(key) ? result[key] : Json(), it.value(), flavour);
    if (merged.is_null()) {
      result.erase(key);  // `$patch: delete` on this member
    } else {
      result[key] = merged;
    }
  }
  return result;
}

}  // namespace kube_test
