// Discovery and health: what kubectl and client libraries ask before they
// touch a resource (shapes of fixtures/kube-api-samples 01-03, 22).
//
// Only the legacy (unaggregated) discovery format is served: kubectl 1.32
// asks for apidiscovery.k8s.io/v2 first and falls back on plain JSON, as it
// does against a real v1.26 server (sample 23).
#include "http_helpers.h"
#include "openapi_v1.h"
#include "routes.h"

namespace kube_test {
namespace {

Json api_versions(int port) {
  Json cidr;
  cidr["clientCIDR"] = "0.0.0.0/0";
  cidr["serverAddress"] = "127.0.0.1:" + std::to_string(port);
  Json j;
  j["kind"] = "APIVersions";
  j["versions"] = Json::array({"v1"});
  j["serverAddressByClientCIDRs"] = Json::array({cidr});
  return j;
}

Json api_v1_resources() {
  Json secrets;
  secrets["name"] = "secrets";
  secrets["singularName"] = "";
  secrets["namespaced"] = true;
  secrets["kind"] = "Secret";
  secrets["verbs"] = Json::array({"create", "delete", "deletecollection", "get",
                                  "list", "patch", "update", "watch"});
  secrets["storageVersionHash"] = "S6u1pOWzb84=";
  Json j;
  j["kind"] = "APIResourceList";
  j["groupVersion"] = "v1";
  j["resources"] = Json::array({secrets});
  return j;
}

Json api_groups() {
  // No API groups: only the core group's Secrets exist here. An empty list
  // also spares kubectl one discovery request per group.
  Json j;
  j["kind"] = "APIGroupList";
  j["apiVersion"] = "v1";
  j["groups"] = Json::array();
  return j;
}

Json version_info() {
  Json j;
  j["major"] = "1";
  j["minor"] = "26";
  j["gitVersion"] = "v1.26.5";
  j["gitCommit"] = "890a139214b4de1f01543d15003b5bda71aae9c7";
  j["gitTreeState"] = "clean";
  j["buildDate"] = "2023-05-17T14:08:49Z";
  j["goVersion"] = "go1.19.9";
  j["compiler"] = "gc";
  j["platform"] = "linux/amd64";
  return j;
}

}  // namespace

void register_discovery_routes(httplib::Server &server, ServerContext &ctx) {
  auto json_route = [&](const char *path, std::function<Json()> body) {
    server.Get(path, guarded(ctx, [body](const httplib::Request &req,
                                         httplib::Response &res,
                                         const FaultHit *) {
                 send_json(req, res, 200, body());
               }));
  };
  json_route(R"(/api/?)", [&ctx] { return api_versions(ctx.port); });
  json_route(R"(/api/v1/?)", api_v1_resources);
  json_route(R"(/apis/?)", api_groups);
  json_route("/version", version_info);

  server.Get("/openapi/v3",
             guarded(ctx, [](const httplib::Request &, httplib::Response &res,
                             const FaultHit *) {
               set_common_headers(res);
               // The real server serves the index through http.ServeContent,
               // which sniffs JSON as text (sample 22); kubectl reads the
               // body whatever its type.
               res.set_content(openapi_v3_index(), "text/plain; charset=utf-8");
             }));
  server.Get("/openapi/v3/api/v1",
             guarded(ctx, [](const httplib::Request &req,
                             httplib::Response &res, const FaultHit *) {
               set_common_headers(res);
               // A document fetched by its hash never changes: let clients
               // cache it, as the real server does.
               if (req.has_param("hash")) {
                 res.set_header("Cache-Control", "public, immutable");
               }
               res.set_header("Etag", "\"" + openapi_v3_api_v1_hash() + "\"");
               res.set_content(openapi_v3_api_v1(), "application/json");
             }));

  // Health endpoints answer without a token, as with anonymous auth on.
  for (const char *path : {"/healthz", "/livez", "/readyz"}) {
    server.Get(path, [](const httplib::Request &, httplib::Response &res) {
      res.set_content("ok", "text/plain; charset=utf-8");
    });
  }
}

}  // namespace kube_test
