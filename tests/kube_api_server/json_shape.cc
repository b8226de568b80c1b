#include "json_shape.h"

namespace json_shape {
namespace {

using nlohmann::json;

const char *type_name(const json &v) {
  switch (v.type()) {
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::null:
      return "null";
    default:
      return "invalid";
  }
}

std::string escape(const std::string &name) {
  std::string out;
  for (char c : name) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// `name` is the member name the value sits under ("" for the root and for
// array elements).
void walk(const json &v, const std::string &path, const std::string &name,
          const Options &options, Shape &out) {
  PathShape &here = out[path];
  here.types.insert(type_name(v));
  if (!name.empty() && options.fixed.count(name) != 0) {
    here.values.insert(v.dump());
  } else if (!name.empty() && options.digit_blind.count(name) != 0) {
    here.values.insert(
        blank_digits(v.is_string() ? v.get<std::string>() : v.dump()));
  }
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      walk(it.value(), path + "/" + escape(it.key()), it.key(), options, out);
    }
  } else if (v.is_array()) {
    for (const json &element : v) walk(element, path + "/[]", "", options, out);
  }
}

std::string joined(const std::set<std::string> &items) {
  std::string out;
  for (const std::string &s : items) out += (out.empty() ? "" : " | ") + s;
  return out;
}

std::string shown(const std::string &path) {
  return path.empty() ? "(root)" : path;
}

}  // namespace

std::string blank_digits(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] >= '0' && s[i] <= '9') {
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      out += '#';
    } else {
      out += s[i++];
    }
  }
  return out;
}

Shape shape_of(const nlohmann::json &doc, const Options &options) {
  Shape out;
  walk(doc, "", "", options, out);
  return out;
}

std::vector<std::string> differences(const nlohmann::json &recorded,
                                     const nlohmann::json &served,
                                     const Options &options) {
  const Shape want = shape_of(recorded, options);
  const Shape got = shape_of(served, options);
  std::vector<std::string> out;
  for (const auto &[path, w] : want) {
    auto g = got.find(path);
    if (g == got.end()) {
      out.push_back("missing: " + shown(path) + " (" + joined(w.types) + ")");
      continue;
    }
    if (g->second.types != w.types) {
      out.push_back("type of " + shown(path) + ": recorded " + joined(w.types) +
                    ", served " + joined(g->second.types));
    }
    if (g->second.values != w.values) {
      out.push_back("value of " + shown(path) + ": recorded " +
                    joined(w.values) + ", served " + joined(g->second.values));
    }
  }
  for (const auto &[path, g] : got) {
    if (want.count(path) == 0) {
      out.push_back("not in the recording: " + shown(path) + " (" +
                    joined(g.types) + ")");
    }
  }
  return out;
}

}  // namespace json_shape
