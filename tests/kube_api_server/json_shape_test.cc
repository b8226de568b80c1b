// The shape comparison the conformance test relies on notices what it must
// (a missing key, a changed type, a changed fixed string) and nothing else.
#include "json_shape.h"

#include <catch2/catch.hpp>

namespace {

using nlohmann::json;

json_shape::Options kind_fixed() {
  json_shape::Options o;
  o.fixed = {"kind", "code"};
  o.digit_blind = {"message"};
  return o;
}

}  // namespace

TEST_CASE("json_shape: documents that differ only in variable values match") {
  const json a = {{"kind", "Secret"},
                  {"metadata", {{"name", "a"}, {"resourceVersion", "1"}}},
                  {"items", {{{"x", 1}}, {{"x", 2}}}}};
  const json b = {{"kind", "Secret"},
                  {"metadata", {{"name", "b"}, {"resourceVersion", "99"}}},
                  {"items", {{{"x", 7}}}}};
  CHECK(json_shape::differences(a, b, kind_fixed()).empty());
}

TEST_CASE("json_shape: a missing or an extra key is a difference") {
  const json recorded = {{"metadata", {{"continue", "t"}, {"rv", "1"}}}};
  const json served = {{"metadata", {{"rv", "1"}, {"extra", true}}}};
  const auto d = json_shape::differences(recorded, served, kind_fixed());
  REQUIRE(d.size() == 2);
  CHECK(d[0] == "missing: /metadata/continue (string)");
  CHECK(d[1] == "not in the recording: /metadata/extra (boolean)");
}

TEST_CASE("json_shape: a changed type is a difference, integer is not float") {
  const auto d =
      json_shape::differences(json{{"n", 1}}, json{{"n", 1.0}}, kind_fixed());
  REQUIRE(d.size() == 1);
  CHECK(d[0] == "type of /n: recorded integer, served number");
  CHECK_FALSE(json_shape::differences(json{{"t", nullptr}}, json{{"t", "x"}},
                                      kind_fixed())
                  .empty());
}

TEST_CASE("json_shape: fixed values must match wherever the name occurs") {
  const json recorded = {{"kind", "Status"},
                         {"details", {{"kind", "secrets"}}}};
  const json served = {{"kind", "Status"}, {"details", {{"kind", "Secret"}}}};
  const auto d = json_shape::differences(recorded, served, kind_fixed());
  REQUIRE(d.size() == 1);
  CHECK(d[0] ==
        "value of /details/kind: recorded \"secrets\", served "
        "\"Secret\"");
}

TEST_CASE("json_shape: digit-blind values match whatever their numbers") {
  CHECK(json_shape::blank_digits("too old resource version: 150 (211)") ==
        "too old resource version: # (#)");
  CHECK(json_shape::differences(json{{"message", "rv 150 (211)"}},
                                json{{"message", "rv 7 (9)"}}, kind_fixed())
            .empty());
  CHECK_FALSE(json_shape::differences(json{{"message", "rv 150 (211)"}},
                                      json{{"message", "rv 7"}}, kind_fixed())
                  .empty());
}

TEST_CASE("json_shape: an array's shape is the union of its elements'") {
  const json recorded = {{"a", {{{"x", 1}}, {{"y", "s"}}}}};
  const json only_x = {{"a", {{{"x", 1}}}}};
  const json both = {{"a", {{{"y", "t"}}, {{"x", 5}}}}};
  CHECK(json_shape::differences(recorded, both, kind_fixed()).empty());
  const auto d = json_shape::differences(recorded, only_x, kind_fixed());
  REQUIRE(d.size() == 1);
  CHECK(d[0] == "missing: /a/[]/y (string)");
  // An empty array has no element shape to offer.
  CHECK(json_shape::differences(recorded, json{{"a", json::array()}},
                                kind_fixed())
            .size() == 3);
}

TEST_CASE("json_shape: '/' and '~' in member names are escaped in paths") {
  const auto shape = json_shape::shape_of(
      json{{"labels", {{"cert-manager.io/fao", "true"}, {"a~b", "c"}}}},
      kind_fixed());
  CHECK(shape.count("/labels/cert-manager.io~1fao") == 1);
  CHECK(shape.count("/labels/a~0b") == 1);
}
