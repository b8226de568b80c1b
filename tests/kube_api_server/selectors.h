// labelSelector and fieldSelector for LIST and WATCH of Secrets.
//
// Label selectors: comma-separated requirements, all must hold:
//   key, !key, key=v, key==v, key!=v, key in (a,b), key notin (a,b)
// Field selectors (what the real server supports for Secrets):
//   metadata.name, metadata.namespace, type with =, ==, != (AND only).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "json.h"

namespace kube_test {

class Selector {
 public:
  // Parses both selectors; on error returns the message for a 400.
  static std::optional<std::string> parse(const std::string &label_selector,
                                          const std::string &field_selector,
                                          Selector &out);

  bool matches(const Json &secret) const;
  // No requirement at all: the list may report remainingItemCount.
  bool empty() const { return labels_.empty() && fields_.empty(); }

 private:
  enum class Op { kExists, kNotExists, kEquals, kNotEquals, kIn, kNotIn };
  struct Requirement {
    std::string key;
    Op op = Op::kExists;
    std::vector<std::string> values;
  };

  static std::optional<std::string> parse_labels(const std::string &text,
                                                 std::vector<Requirement> &out);
  static std::optional<std::string> parse_fields(const std::string &text,
                                                 std::vector<Requirement> &out);
  static bool holds(const Requirement &r, const std::string *value);

  std::vector<Requirement> labels_;
  std::vector<Requirement> fields_;
};

}  // namespace kube_test
