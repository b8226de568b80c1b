// Scope: the query a watch sends (type and name ANDed in one field
// selector), and which stored Secrets a LIST of it may drop.
#include <catch2/catch.hpp>

#include "kube/scope.h"

using certsync::kube::Scope;

TEST_CASE("a type scope selects its type on the server, escaped", "[scope]") {
  Scope scope{"default", "", "", "kubernetes.io/tls"};
  REQUIRE(scope.selector_query() == "fieldSelector=type%3Dkubernetes.io%2Ftls");
  REQUIRE(scope.describe() == "namespace default, type kubernetes.io/tls");
}

TEST_CASE("a named Secret's scope ANDs the type with metadata.name in one fieldSelector", "[scope]") {
  Scope scope{"web", "app-tls", "app=web", "Opaque"};
  REQUIRE(scope.selector_query() == "labelSelector=app%3Dweb&fieldSelector=type%3DOpaque%2Cmetadata.name%3Dapp-tls");
  REQUIRE(scope.describe() == "Secret web/app-tls, type Opaque (labels app=web)");
}

TEST_CASE("a scope of every type sends no type selector", "[scope]") {
  Scope all{"", "", "", ""};
  REQUIRE(all.selector_query().empty());
  REQUIRE(all.describe() == "all namespaces, any type");
  Scope named{"web", "x", "", ""};
  REQUIRE(named.selector_query() == "fieldSelector=metadata.name%3Dx");
}

TEST_CASE("a scope contains only Secrets of its own type", "[scope]") {
  Scope tls{"default", "", "", "kubernetes.io/tls"};
  REQUIRE(tls.contains("default/a", "kubernetes.io/tls"));
  REQUIRE_FALSE(tls.contains("default/a", "Opaque"));
  REQUIRE_FALSE(tls.contains("other/a", "kubernetes.io/tls"));
  Scope any{"default", "", "", ""};
  REQUIRE(any.contains("default/a", "Opaque"));
  REQUIRE(any.contains("default/a", "helm.sh/release.v1"));
  Scope named{"default", "x", "", "Opaque"};
  REQUIRE(named.contains("default/x", "Opaque"));
  REQUIRE_FALSE(named.contains("default/xy", "Opaque"));
  REQUIRE_FALSE(named.contains("default/x", "kubernetes.io/tls"));
}
