// cert-manager's Certificates, as the CRD (cert-manager.io/v1, namespaced,
// status subresource) serves them: LIST, WATCH, GET, POST, PUT, PATCH and
// DELETE on the object, GET, PUT and PATCH on /status. With --cert-manager
// absent every path answers 404 as on a cluster without the CRD; with
// forbidden, 403 as RBAC answers an identity without the verb.
//
// Requests count as "other" in /testing/counters, so that counting and
// faults aimed at Secret lists and watches keep meaning what they meant.
#include <string>

#include "certificate_object.h"
#include "http_helpers.h"
#include "managed_fields.h"
#include "merge_patch.h"
#include "request_kind.h"
#include "route_list.h"
#include "routes.h"
#include "secret_object.h"

namespace kube_test {
namespace {

const char kCollection[] = R"(/apis/cert-manager.io/v1/namespaces/([^/]+)/certificates/?)";
const char kItem[] = R"(/apis/cert-manager.io/v1/namespaces/([^/]+)/certificates/([^/]+))";
const char kStatus[] = R"(/apis/cert-manager.io/v1/namespaces/([^/]+)/certificates/([^/]+)/status)";
const char kAll[] = R"(/apis/cert-manager.io/v1/certificates/?)";

std::string verb_of(const httplib::Request &req, bool item) {
  if (req.method == "GET") {
    if (item) return "get";
    return is_watch_request(req) ? "watch" : "list";
  }
  if (req.method == "POST") return "create";
  if (req.method == "PUT") return "update";
  if (req.method == "PATCH") return "patch";
  if (req.method == "DELETE") return "delete";
  return "other";
}

// 404 or 403 when the mode says the resource is not there for this client.
bool refused(ServerContext &ctx, const httplib::Request &req,
             httplib::Response &res, const std::string &ns,
             const std::string &name) {
  const int mode = ctx.cert_manager.load();
  if (mode == kCertManagerServed) return false;
  if (mode == kCertManagerAbsent) {
    send_error(req, res, route_not_found());
    return true;
  }
  RequestTarget target;
  target.verb = verb_of(req, !name.empty());
  target.ns = ns;
  target.name = name;
  target.resource_name = "certificates";
  target.group = "cert-manager.io";
  send_error(req, res, forbidden(target));
  return true;
}

std::string manager_of(const httplib::Request &req) {
  return field_manager(param(req, "fieldManager"),
                       req.get_header_value("User-Agent"));
}

std::optional<ApiError> read_json(const httplib::Request &req, Json &out) {
  out = Json::parse(req.body, nullptr, false);
  if (out.is_discarded()) {
    return bad_request("Certificate in version \"v1\" cannot be handled as a "
                       "Certificate: the body is not valid JSON");
  }
  return std::nullopt;
}

int64_t generation_of(const Json &object) {
  const Json &meta = object["metadata"];
  auto it = meta.find("generation");
  return it != meta.end() && it->is_number_integer() ? it->get<int64_t>() : 1;
}

// What a write of `next` over `current` stores: through the object, the
// stored status stays; through /status, only the status changes.
// metadata.generation grows when the spec changed.
Json merge_write(const Json &current, Json next, bool status_write) {
  if (status_write) {
    Json out = current;
    if (next.contains("status")) {
      out["status"] = next["status"];
    } else {
      out.erase("status");
    }
    if (next["metadata"].contains("managedFields")) {
      out["metadata"]["managedFields"] = next["metadata"]["managedFields"];
    }
    return out;
  }
  if (current.contains("status")) {
    next["status"] = current["status"];
  } else {
    next.erase("status");
  }
  int64_t generation = generation_of(current);
  if (next.value("spec", Json::object()) != current.value("spec", Json::object())) {
    ++generation;
  }
  next["metadata"]["generation"] = generation;
  return next;
}

void handle_create(ServerContext &ctx, const httplib::Request &req,
                   httplib::Response &res, const std::string &ns) {
  Json body, certificate;
  if (auto err = read_json(req, body)) return send_error(req, res, *err);
  if (auto err = decode_certificate(body, ns, certificate)) {
    return send_error(req, res, *err);
  }
  Json &meta = certificate["metadata"];
  if (meta.value("name", std::string()).empty() && meta.contains("generateName")) {
    meta["name"] = meta["generateName"].get<std::string>() + random_name_suffix();
  }
  if (auto err = validate_certificate(certificate)) {
    return send_error(req, res, *err);
  }
  certificate.erase("status");  // the status subresource: set through /status only
  meta["generation"] = 1;
  record_managed_fields(nullptr, certificate, manager_of(req), "Update");
  StoreResult r = ctx.certificates->create(std::move(certificate));
  if (r.error) return send_error(req, res, *r.error);
  send_json(req, res, 201, r.body);
}

// PUT (replace) or PATCH, on the object or on /status.
void handle_write(ServerContext &ctx, const httplib::Request &req,
                  httplib::Response &res, const std::string &ns,
                  const std::string &name, bool status_write) {
  Json body;
  if (auto err = read_json(req, body)) return send_error(req, res, *err);
  const bool patch = req.method == "PATCH";
  const std::string type = media_type(req);
  const bool apply = type == "application/apply-patch+yaml";
  const bool json_patch = type == "application/json-patch+json";
  if (patch && type != "application/merge-patch+json" && !apply && !json_patch) {
    // A custom resource has no strategic merge patch: kubectl sends a
    // JSON merge patch to CRDs, as the real server demands.
    return send_error(req, res, unsupported_media_type(type));
  }
  StoreResult r = ctx.certificates->update(
      ns, name, [&](const Json &current, Json &out) -> std::optional<ApiError> {
        Json merged;
        if (!patch) {
          merged = body;
        } else if (json_patch) {
          try {
            merged = current.patch(body);
          } catch (const std::exception &e) {
            return ApiError{422, failure_status(422, "Invalid", e.what())};
          }
        } else {
          merged = apply_merge_patch(current, body, PatchFlavour::kJsonMerge);
        }
        Json next;
        if (auto err = decode_certificate(merged, ns, next)) return err;
        if (next["metadata"].value("name", name) != name) {
          return bad_request("the name of the object does not match the name "
                             "on the URL (" + name + ")");
        }
        next["metadata"]["name"] = name;
        const std::string want_rv =
            next["metadata"].value("resourceVersion", std::string());
        if (!patch && !want_rv.empty() &&
            want_rv != current["metadata"].value("resourceVersion", std::string())) {
          return conflict(name, "certificates", "cert-manager.io");
        }
        if (auto err = validate_certificate(next)) return err;
        record_managed_fields(&current, next, manager_of(req),
                              apply ? "Apply" : "Update", apply ? &body : nullptr);
        out = merge_write(current, std::move(next), status_write);
        return std::nullopt;
      });
  if (r.error) return send_error(req, res, *r.error);
  send_json(req, res, 200, r.body);
}

void handle_delete(ServerContext &ctx, const httplib::Request &req,
                   httplib::Response &res, const std::string &ns,
                   const std::string &name) {
  StoreResult r = ctx.certificates->remove(ns, name);
  if (r.error) return send_error(req, res, *r.error);
  send_json(req, res, 200, r.body);
}

void handle_collection_get(ServerContext &ctx, const httplib::Request &req,
                           httplib::Response &res, const std::string &ns,
                           const FaultHit *fault) {
  if (is_watch_request(req)) {
    return serve_watch(ctx, req, res, ns, fault, ctx.certificates);
  }
  serve_list(req, res, *ctx.certificates, ns);
}

}  // namespace

void register_certificate_routes(httplib::Server &server, ServerContext &ctx) {
  auto ns_of = [](const httplib::Request &req) { return req.matches[1].str(); };
  auto name_in = [](const httplib::Request &req) { return req.matches[2].str(); };

  server.Get(kCollection, guarded(ctx, [&ctx, ns_of](const httplib::Request &req,
                                                      httplib::Response &res,
                                                      const FaultHit *fault) {
               if (refused(ctx, req, res, ns_of(req), "")) return;
               handle_collection_get(ctx, req, res, ns_of(req), fault);
             }));
  server.Get(kAll, guarded(ctx, [&ctx](const httplib::Request &req,
                                       httplib::Response &res,
                                       const FaultHit *fault) {
               if (refused(ctx, req, res, "", "")) return;
               handle_collection_get(ctx, req, res, "", fault);
             }));
  server.Post(kCollection, guarded(ctx, [&ctx, ns_of](const httplib::Request &req,
                                                       httplib::Response &res,
                                                       const FaultHit *) {
                if (refused(ctx, req, res, ns_of(req), "")) return;
                handle_create(ctx, req, res, ns_of(req));
              }));
  for (bool status : {true, false}) {
    const char *pattern = status ? kStatus : kItem;
    server.Get(pattern, guarded(ctx, [&ctx, ns_of, name_in](
                                         const httplib::Request &req,
                                         httplib::Response &res, const FaultHit *) {
                 if (refused(ctx, req, res, ns_of(req), name_in(req))) return;
                 StoreResult r = ctx.certificates->get(ns_of(req), name_in(req));
                 if (r.error) return send_error(req, res, *r.error);
                 send_json(req, res, 200, r.body);
               }));
    auto write = [&ctx, ns_of, name_in, status](const httplib::Request &req,
                                               httplib::Response &res,
                                               const FaultHit *) {
      if (refused(ctx, req, res, ns_of(req), name_in(req))) return;
      handle_write(ctx, req, res, ns_of(req), name_in(req), status);
    };
    server.Put(pattern, guarded(ctx, write));
    server.Patch(pattern, guarded(ctx, write));
  }
  server.Delete(kItem, guarded(ctx, [&ctx, ns_of, name_in](
                                        const httplib::Request &req,
                                        httplib::Response &res, const FaultHit *) {
                  if (refused(ctx, req, res, ns_of(req), name_in(req))) return;
                  handle_delete(ctx, req, res, ns_of(req), name_in(req));
                }));
}

}  // namespace kube_test
