#include "selectors.h"

#include <algorithm>

namespace kube_test {
namespace {

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Splits on commas that are not inside parentheses ("a in (x,y),b").
std::vector<std::string> split_top_level(const std::string &text) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

}  // namespace

std::optional<std::string> Selector::parse(const std::string &label_selector,
                                           const std::string &field_selector,
                                           Selector &out) {
  out = Selector();
  if (auto err = parse_labels(label_selector, out.labels_)) return err;
  if (auto err = parse_fields(field_selector, out.fields_)) return err;
  return std::nullopt;
}

std::optional<std::string> Selector::parse_labels(
    const std::string &text, std::vector<Requirement> &out) {
  if (trim(text).empty()) return std::nullopt;
  for (const std::string &raw : split_top_level(text)) {
    std::string part = trim(raw);
    if (part.empty()) {
      return "unable to parse requirement: found ',', expected: identifier";
    }
    Requirement r;
    size_t pos;
    if (part[0] == '!') {
      r.key = trim(part.substr(1));
      r.op = Op::kNotExists;
    } else if ((pos = part.find("!=")) != std::string::npos) {
      r.key = trim(part.substr(0, pos));
      r.op = Op::kNotEquals;
      r.values.push_back(trim(part.substr(pos + 2)));
    } else if ((pos = part.find("==")) != std::string::npos) {
      r.key = trim(part.substr(0, pos));
      r.op = Op::kEquals;
      r.values.push_back(trim(part.substr(pos + 2)));
    } else if ((pos = part.find('=')) != std::string::npos) {
      r.key = trim(part.substr(0, pos));
      r.op = Op::kEquals;
      r.values.push_back(trim(part.substr(pos + 1)));
    } else if ((pos = part.find(" notin ")) != std::string::npos ||
               (pos = part.find(" in ")) != std::string::npos) {
      bool notin = part.compare(pos, 7, " notin ") == 0;
      r.key = trim(part.substr(0, pos));
      r.op = notin ? Op::kNotIn : Op::kIn;
      std::string set = trim(part.substr(pos + (notin ? 7 : 4)));
      if (set.size() < 2 || set.front() != '(' || set.back() != ')') {
        return "unable to parse requirement: expected '(' and ')' around "
               "the values of " + r.key;
      }
      std::string inner = set.substr(1, set.size() - 2);
      size_t start = 0;
      while (true) {
        size_t comma = inner.find(',', start);
        r.values.push_back(trim(inner.substr(start, comma - start)));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      r.key = part;
      r.op = Op::kExists;
    }
    if (r.key.empty() || r.key.find_first_of(" ()!=") != std::string::npos) {
      return "unable to parse requirement: invalid label key \"" + r.key + "\"";
    }
    out.push_back(r);
  }
  return std::nullopt;
}

std::optional<std::string> Selector::parse_fields(
    const std::string &text, std::vector<Requirement> &out) {
  if (trim(text).empty()) return std::nullopt;
  for (const std::string &raw : split_top_level(text)) {
    std::string part = trim(raw);
    Requirement r;
    size_t pos;
    size_t skip = 1;
    if ((pos = part.find("!=")) != std::string::npos) {
      r.op = Op::kNotEquals;
      skip = 2;
    } else if ((pos = part.find("==")) != std::string::npos) {
      r.op = Op::kEquals;
      skip = 2;
    } else if ((pos = part.find('=')) != std::string::npos) {
      r.op = Op::kEquals;
    } else {
      return "invalid selector: '" + part + "'; can't understand '" + part + "'";
    }
    r.key = trim(part.substr(0, pos));
    r.values.push_back(trim(part.substr(pos + skip)));
    if (r.key != "metadata.name" && r.key != "metadata.namespace" &&
        r.key != "type") {
      return "field label not supported: " + r.key;
    }
    out.push_back(r);
  }
  return std::nullopt;
}

bool Selector::holds(const Requirement &r, const std::string *value) {
  switch (r.op) {
    case Op::kExists:
      return value != nullptr;
    case Op::kNotExists:
      return value == nullptr;
    case Op::kEquals:
      return value != nullptr && *value == r.values[0];
    case Op::kNotEquals:
      return value == nullptr || *value != r.values[0];
    case Op::kIn:
      return value != nullptr &&
             std::find(r.values.begin(), r.values.end(), *value) !=
                 r.values.end();
    case Op::kNotIn:
      return value == nullptr ||
             std::find(r.values.begin(), r.values.end(), *value) ==
                 r.values.end();
  }
  return false;
}

bool Selector::matches(const Json &secret) const {
  const Json &meta = secret["metadata"];
  for (const Requirement &r : labels_) {
    std::string value;
    bool present = meta.contains("labels") && meta["labels"].contains(r.key);
    if (present) value = meta["labels"][r.key].get<std::string>();
    if (!holds(r, present ? &value : nullptr)) return false;
  }
  for (const Requirement &r : fields_) {
    std::string value;
    if (r.key == "metadata.name") {
      value = meta.value("name", std::string());
    } else if (r.key == "metadata.namespace") {
      value = meta.value("namespace", std::string());
    } else {
      value = secret.value("type", std::string());
    }
    // Fields always exist; an absent one compares as "".
    if (!holds(r, &value)) return false;
  }
  return true;
}

}  // namespace kube_test
