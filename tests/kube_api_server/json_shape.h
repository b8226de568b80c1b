// The shape of a JSON document, for comparing the test server's answers with
// the recorded exchanges of a real kube-apiserver (conformance_test.cc).
//
// A shape maps every key path to the JSON types found there:
//   ""                     object
//   "/metadata/labels"     object
//   "/items/[]/type"       string
// Object members extend the path with "/name" ("/" and "~" in a name are
// written "~1" and "~0", as in a JSON pointer); array elements share one
// path, "/[]", so an array's shape is the union of its elements' shapes (an
// empty array contributes only its own path). Types are "object", "array",
// "string", "integer", "number" (a float), "boolean" and "null".
//
// Values are not part of a shape, except under member names the caller
// declares fixed: there the values themselves (the whole subtree, as JSON
// text) must match too, e.g. "kind", "reason", "code". Names declared
// digit-blind compare their string values with every run of digits read as
// "#" ("too old resource version: 150 (211)" matches "... 7 (9)").
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace json_shape {

struct Options {
  std::set<std::string> fixed;        // member names whose values must match
  std::set<std::string> digit_blind;  // ... match once digits are blanked
};

struct PathShape {
  std::set<std::string> types;
  std::set<std::string> values;  // only under fixed / digit-blind names
};

using Shape = std::map<std::string, PathShape>;

Shape shape_of(const nlohmann::json &doc, const Options &options);

// The differences between the recorded document and the served one, one
// readable line each ("missing: /metadata/continue (string)"); empty when
// the shapes (and fixed values) are the same.
std::vector<std::string> differences(const nlohmann::json &recorded,
                                     const nlohmann::json &served,
                                     const Options &options);

// Every run of ASCII digits replaced by "#".
std::string blank_digits(const std::string &s);

}  // namespace json_shape
