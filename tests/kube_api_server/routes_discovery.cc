// Discovery and health: what kubectl and client libraries ask before they
// touch a resource (shapes of fixtures/kube-api-samples 01-03, 22).
//
// Only the legacy (unaggregated) discovery format is served: kubectl 1.32
// asks for apidiscovery.k8s.io/v2 first and falls back on plain JSON, as it
// does against a real v1.26 server (sample 23).
#include "http_helpers.h"
#include "openapi_cert_manager.h"
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

Json cert_manager_group() {
  Json version;
  version["groupVersion"] = "cert-manager.io/v1";
  version["version"] = "v1";
  Json g;
  g["name"] = "cert-manager.io";
  g["versions"] = Json::array({version});
  g["preferredVersion"] = version;
  return g;
}

Json api_groups(bool cert_manager) {
  // Only cert-manager.io, when its CRD is installed: without it, only the
  // core group's Secrets exist here. An empty list also spares kubectl one
  // discovery request per group.
  Json j;
  j["kind"] = "APIGroupList";
  j["apiVersion"] = "v1";
  j["groups"] = Json::array();
  if (cert_manager) j["groups"].push_back(cert_manager_group());
  return j;
}

Json cert_manager_resources() {
  // What the cert-manager CRD's discovery shows for Certificates.
  Json certificates;
  certificates["name"] = "certificates";
  certificates["singularName"] = "certificate";
  certificates["namespaced"] = true;
  certificates["kind"] = "Certificate";
  certificates["verbs"] = Json::array({"delete", "deletecollection", "get", "list",
                                       "patch", "create", "update", "watch"});
  certificates["shortNames"] = Json::array({"cert", "certs"});
  certificates["categories"] = Json::array({"cert-manager"});
  certificates["storageVersionHash"] = "5k7MlMh5dno=";
  Json status;
  status["name"] = "certificates/status";
  status["singularName"] = "";
  status["namespaced"] = true;
  status["kind"] = "Certificate";
  status["verbs"] = Json::array({"get", "patch", "update"});
  Json j;
  j["kind"] = "APIResourceList";
  j["apiVersion"] = "v1";
  j["groupVersion"] = "cert-manager.io/v1";
  j["resources"] = Json::array({certificates, status});
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
  // RBAC does not hide discovery: a forbidden CRD is listed all the same.
  json_route(R"(/apis/?)", [&ctx] {
    return api_groups(ctx.cert_manager.load() != kCertManagerAbsent);
  });
  for (const char *path : {R"(/apis/cert-manager.io/?)", R"(/apis/cert-manager.io/v1/?)"}) {
    const bool group = std::string(path).find("v1") == std::string::npos;
    server.Get(path, guarded(ctx, [&ctx, group](const httplib::Request &req,
                                                httplib::Response &res,
                                                const FaultHit *) {
                 if (ctx.cert_manager.load() == kCertManagerAbsent) {
                   return send_error(req, res, route_not_found());
                 }
                 Json body = group ? cert_manager_group() : cert_manager_resources();
                 if (group) {
                   body["kind"] = "APIGroup";
                   body["apiVersion"] = "v1";
                 }
                 send_json(req, res, 200, body);
               }));
  }
  json_route("/version", version_info);

  server.Get("/openapi/v3",
             guarded(ctx, [&ctx](const httplib::Request &, httplib::Response &res,
                                 const FaultHit *) {
               set_common_headers(res);
               // The real server serves the index through http.ServeContent,
               // which sniffs JSON as text (sample 22); kubectl reads the
               // body whatever its type.
               std::string index = openapi_v3_index();
               if (ctx.cert_manager.load() != kCertManagerAbsent) {
                 Json j = Json::parse(index);
                 j["paths"]["apis/cert-manager.io/v1"]["serverRelativeURL"] =
                     "/openapi/v3/apis/cert-manager.io/v1?hash=" +
                     openapi_v3_cert_manager_hash();
                 index = j.dump();
               }
               res.set_content(index, "text/plain; charset=utf-8");
             }));
  server.Get("/openapi/v3/apis/cert-manager.io/v1",
             guarded(ctx, [&ctx](const httplib::Request &req,
                                 httplib::Response &res, const FaultHit *) {
               if (ctx.cert_manager.load() == kCertManagerAbsent) {
                 return send_error(req, res, route_not_found());
               }
               set_common_headers(res);
               if (req.has_param("hash")) {
                 res.set_header("Cache-Control", "public, immutable");
               }
               res.set_header("Etag", "\"" + openapi_v3_cert_manager_hash() + "\"");
               res.set_content(openapi_v3_cert_manager(), "application/json");
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
