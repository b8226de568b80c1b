#include "managed_fields.h"

#include <set>
#include <vector>

#include "secret_object.h"

namespace kube_test {
namespace {

// A field, as the path of member names from the object's root:
// {"type"}, {"data"} (the map itself), {"data", "tls.crt"}, ...
using FieldPath = std::vector<std::string>;
using FieldSet = std::set<FieldPath>;

const FieldPath kMaps[] = {
    {"data"}, {"metadata", "labels"}, {"metadata", "annotations"}};

bool is_map(const FieldPath &p) {
  for (const FieldPath &m : kMaps) {
    if (p == m) return true;
  }
  return false;
}

// The value at `path`, or nullptr.
const Json *value_at(const Json &obj, const FieldPath &path) {
  const Json *node = &obj;
  for (const std::string &seg : path) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(seg);
    if (it == node->end() || it->is_null()) return nullptr;
    node = &*it;
  }
  return node;
}

void add_map(const Json &obj, const FieldPath &map, FieldSet &out) {
  const Json *m = value_at(obj, map);
  if (m == nullptr || !m->is_object() || m->empty()) return;
  out.insert(map);
  for (auto it = m->begin(); it != m->end(); ++it) {
    FieldPath key = map;
    key.push_back(it.key());
    out.insert(key);
  }
}

// The tracked fields an object (or an applied configuration) sets.
FieldSet fields_of(const Json &obj) {
  FieldSet out;
  for (const char *leaf : {"type", "immutable"}) {
    if (value_at(obj, {leaf}) != nullptr) out.insert({leaf});
  }
  for (const FieldPath &m : kMaps) add_map(obj, m, out);
  // stringData in an applied configuration sets data keys.
  const Json *sd = value_at(obj, {"stringData"});
  if (sd != nullptr && sd->is_object() && !sd->empty()) {
    out.insert({"data"});
    for (auto it = sd->begin(); it != sd->end(); ++it) {
      out.insert({"data", it.key()});
    }
  }
  return out;
}

// Fields of `next` that `current` lacks or holds with another value. A map
// counts as changed only when it appears.
FieldSet changed_fields(const Json *current, const Json &next) {
  FieldSet out;
  for (const FieldPath &p : fields_of(next)) {
    const Json *before = current ? value_at(*current, p) : nullptr;
    const Json *after = value_at(next, p);
    if (before == nullptr ||
        (!is_map(p) && after != nullptr && *before != *after)) {
      out.insert(p);
    }
  }
  return out;
}

void parse_fields_v1(const Json &node, FieldPath &prefix, FieldSet &out) {
  if (!node.is_object()) return;
  if (node.empty() && !prefix.empty()) out.insert(prefix);
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string &key = it.key();
    if (key == ".") {
      if (!prefix.empty()) out.insert(prefix);
    } else if (key.rfind("f:", 0) == 0) {
      prefix.push_back(key.substr(2));
      parse_fields_v1(it.value(), prefix, out);
      prefix.pop_back();
    }
    // k:, v:, i: (list keys) never occur in a Secret's tracked fields.
  }
}

Json render_fields_v1(const FieldSet &fields) {
  // std::set iterates paths in order, so every map's "." is inserted before
  // its keys and members come out sorted, as the real server sorts them.
  Json root = Json::object();
  for (const FieldPath &p : fields) {
    Json *node = &root;
    for (const std::string &seg : p) {
      Json &child = (*node)["f:" + seg];
      if (child.is_null()) child = Json::object();
      node = &child;
    }
    if (is_map(p)) (*node)["."] = Json::object();
  }
  return root;
}

struct Entry {
  std::string manager;
  std::string operation;
  std::string time;
  FieldSet fields;
};

std::vector<Entry> parse_entries(const Json *object) {
  std::vector<Entry> out;
  if (object == nullptr) return out;
  const Json *mf = value_at(*object, {"metadata", "managedFields"});
  if (mf == nullptr || !mf->is_array()) return out;
  for (const Json &e : *mf) {
    if (!e.is_object()) continue;
    Entry entry;
    entry.manager = e.value("manager", std::string());
    entry.operation = e.value("operation", std::string());
    entry.time = e.value("time", std::string());
    if (e.contains("fieldsV1")) {
      FieldPath prefix;
      parse_fields_v1(e["fieldsV1"], prefix, entry.fields);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

Json render_entry(const Entry &e) {
  Json j;
  if (!e.manager.empty()) j["manager"] = e.manager;  // Go: omitempty
  j["operation"] = e.operation;
  j["apiVersion"] = "v1";
  j["time"] = e.time;
  j["fieldsType"] = "FieldsV1";
  j["fieldsV1"] = render_fields_v1(e.fields);
  return j;
}

void subtract(FieldSet &from, const FieldSet &what) {
  for (const FieldPath &p : what) from.erase(p);
}

}  // namespace

std::string field_manager(const std::string &field_manager_param,
                          const std::string &user_agent) {
  if (!field_manager_param.empty()) return field_manager_param;
  return user_agent.substr(0, user_agent.find('/'));
}

void record_managed_fields(const Json *current, Json &next,
                           const std::string &manager,
                           const std::string &operation, const Json *applied) {
  const FieldSet now = fields_of(next);
  const FieldSet changed = changed_fields(current, next);
  FieldSet removed = current ? fields_of(*current) : FieldSet();
  subtract(removed, now);

  std::vector<Entry> entries = parse_entries(current);
  Entry *mine = nullptr;
  for (Entry &e : entries) {
    subtract(e.fields, removed);
    if (e.manager == manager && e.operation == operation) {
      mine = &e;
    } else {
      subtract(e.fields, changed);
    }
  }
  FieldSet owned;
  if (operation == "Apply" && applied != nullptr) {
    for (const FieldPath &p : fields_of(*applied)) {
      if (now.count(p) != 0) owned.insert(p);
    }
  } else {
    owned = mine ? mine->fields : FieldSet();
    owned.insert(changed.begin(), changed.end());
  }
  const bool touched = !changed.empty() || operation == "Apply";
  if (mine != nullptr) {
    mine->fields = owned;
    if (touched) mine->time = now_rfc3339();
  } else if (!owned.empty()) {
    entries.push_back({manager, operation, now_rfc3339(), owned});
  }

  Json out = Json::array();
  for (const Entry &e : entries) {
    if (!e.fields.empty()) out.push_back(render_entry(e));
  }
  Json &meta = next["metadata"];
  if (out.empty()) {
    meta.erase("managedFields");
  } else {
    meta["managedFields"] = out;
  }
}

}  // namespace kube_test
