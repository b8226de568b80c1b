// CRUD and LIST of Secrets; WATCH is handed to routes_watch.cc.
#include <string>

#include "http_helpers.h"
#include "managed_fields.h"
#include "merge_patch.h"
#include "protobuf_secret.h"
#include "request_kind.h"
#include "route_list.h"
#include "routes.h"
#include "secret_object.h"

namespace kube_test {
namespace {

const char kCollection[] = R"(/api/v1/namespaces/([^/]+)/secrets/?)";
const char kItem[] = R"(/api/v1/namespaces/([^/]+)/secrets/([^/]+))";

bool strict_validation(const httplib::Request &req) {
  return param(req, "fieldValidation") == "Strict";
}

bool dry_run(const httplib::Request &req) {
  return param(req, "dryRun") == "All";
}

// Who the write is recorded under in metadata.managedFields.
std::string manager_of(const httplib::Request &req) {
  return field_manager(param(req, "fieldManager"),
                       req.get_header_value("User-Agent"));
}

// The request body as JSON: from JSON, or from kubectl's protobuf envelope.
std::optional<ApiError> read_body(const httplib::Request &req, Json &out,
                                  bool allow_protobuf) {
  const std::string type = media_type(req);
  if (type == "application/vnd.kubernetes.protobuf") {
    if (!allow_protobuf) return unsupported_media_type(type);
    if (auto err = decode_protobuf_secret(req.body, out)) {
      return bad_request("Secret in version \"v1\" cannot be handled as a "
                         "Secret: " + *err);
    }
    return std::nullopt;
  }
  if (!type.empty() && type != "application/json" && type != "*/*") {
    return unsupported_media_type(type);
  }
  out = Json::parse(req.body, nullptr, false);
  if (out.is_discarded()) {
    return bad_request("Secret in version \"v1\" cannot be handled as a "
                       "Secret: the body is not valid JSON");
  }
  return std::nullopt;
}

std::string name_of(const Json &secret) {
  return secret["metadata"].value("name", std::string());
}

// Create from an already decoded and validated Secret; `applied` is the
// applied configuration when server-side apply creates it.
void create_secret(ServerContext &ctx, const httplib::Request &req,
                   httplib::Response &res, Json secret,
                   const Json *applied = nullptr) {
  record_managed_fields(nullptr, secret, manager_of(req),
                        applied ? "Apply" : "Update", applied);
  if (dry_run(req)) {
    secret["metadata"]["uid"] = new_uid();
    secret["metadata"]["creationTimestamp"] = now_rfc3339();
    send_json(req, res, 201, canonical_secret(secret));
    return;
  }
  StoreResult r = ctx.store.create(std::move(secret));
  if (r.error) return send_error(req, res, *r.error);
  send_json(req, res, 201, r.body);
}

void handle_create(ServerContext &ctx, const httplib::Request &req,
                   httplib::Response &res, const std::string &ns) {
  Json body;
  if (auto err = read_body(req, body, true)) return send_error(req, res, *err);
  Json secret;
  if (auto err = decode_secret(body, ns, strict_validation(req), secret)) {
    return send_error(req, res, *err);
  }
  Json &meta = secret["metadata"];
  if (name_of(secret).empty() && meta.contains("generateName")) {
    meta["name"] = meta["generateName"].get<std::string>() + random_name_suffix();
    secret = canonical_secret(secret);
  }
  if (auto err = validate_secret(secret, nullptr)) {
    return send_error(req, res, *err);
  }
  create_secret(ctx, req, res, std::move(secret));
}

// The optimistic-concurrency and uid preconditions a body may carry.
std::optional<ApiError> check_preconditions(const Json &current,
                                            const Json &next,
                                            const std::string &name) {
  const Json &cm = current["metadata"];
  const Json &nm = next["metadata"];
  const std::string want_rv = nm.value("resourceVersion", std::string());
  if (!want_rv.empty() && want_rv != cm.value("resourceVersion", std::string())) {
    return conflict(name);
  }
  const std::string want_uid = nm.value("uid", std::string());
  const std::string uid = cm.value("uid", std::string());
  if (!want_uid.empty() && want_uid != uid) {
    return ApiError{409, failure_status(409, "Conflict",
                                        "Precondition failed: UID in "
                                        "precondition: " + want_uid +
                                            ", UID in object meta: " + uid)};
  }
  return std::nullopt;
}

void handle_replace(ServerContext &ctx, const httplib::Request &req,
                    httplib::Response &res, const std::string &ns,
                    const std::string &name) {
  Json body;
  if (auto err = read_body(req, body, true)) return send_error(req, res, *err);
  Json next;
  if (auto err = decode_secret(body, ns, strict_validation(req), next)) {
    return send_error(req, res, *err);
  }
  const std::string body_name = name_of(next);
  if (body_name != name) {
    return send_error(req, res,
                      bad_request("the name of the object (" + body_name +
                                  ") does not match the name on the URL (" +
                                  name + ")"));
  }
  const bool dry = dry_run(req);
  Json dry_result;
  StoreResult r = ctx.store.update(
      ns, name,
      [&](const Json &current, Json &out) -> std::optional<ApiError> {
        if (auto err = check_preconditions(current, next, name)) return err;
        if (auto err = validate_secret(next, &current)) return err;
        record_managed_fields(&current, next, manager_of(req), "Update");
        if (dry) {
          dry_result = next;
          out = current;  // store nothing
          return std::nullopt;
        }
        out = next;
        return std::nullopt;
      });
  if (r.error) return send_error(req, res, *r.error);
  send_json(req, res, 200, dry ? canonical_secret(dry_result) : r.body);
}

void handle_patch(ServerContext &ctx, const httplib::Request &req,
                  httplib::Response &res, const std::string &ns,
                  const std::string &name) {
  const std::string type = media_type(req);
  PatchFlavour flavour = PatchFlavour::kJsonMerge;
  // Server-side apply is approximated by a merge (no field ownership): good
  // enough for tests that use it to write whole Secrets, like cert-manager.
  const bool apply = type == "application/apply-patch+yaml";
  const bool json_patch = type == "application/json-patch+json";
  if (type == "application/strategic-merge-patch+json") {
    flavour = PatchFlavour::kStrategicMerge;
  } else if (type != "application/merge-patch+json" && !apply &&
             !json_patch) {
    return send_error(req, res, unsupported_media_type(type));
  }
  Json patch = Json::parse(req.body, nullptr, false);
  if (patch.is_discarded()) {
    return send_error(req, res,
                      bad_request("error decoding patch: the body is not "
                                  "valid JSON"));
  }
  const bool strict = strict_validation(req);
  const bool dry = dry_run(req);
  Json dry_result;
  StoreResult r = ctx.store.update(
      ns, name,
      [&](const Json &current, Json &out) -> std::optional<ApiError> {
        Json merged;
        if (json_patch) {
          // RFC 6902 operations (nlohmann implements them); a failed `test`
          // or a path that is not there refuses the whole patch.
          try {
            merged = current.patch(patch);
          } catch (const std::exception &e) {
            return ApiError{422, failure_status(422, "Invalid",
                                                std::string("the server "
                                                            "rejected our "
                                                            "request due to "
                                                            "an error in our "
                                                            "request: ") +
                                                    e.what())};
          }
        } else {
          merged = apply_merge_patch(current, patch, flavour);
        }
        Json next;
        if (auto err = decode_secret(merged, ns, strict, next)) return err;
        next["metadata"]["name"] = name;
        if (auto err = check_preconditions(current, next, name)) return err;
        if (auto err = validate_secret(next, &current)) return err;
        record_managed_fields(&current, next, manager_of(req),
                              apply ? "Apply" : "Update",
                              apply ? &patch : nullptr);
        if (dry) {
          dry_result = next;
          out = current;
          return std::nullopt;
        }
        out = next;
        return std::nullopt;
      });
  if (r.error && r.error->code == 404 && apply && patch.is_object()) {
    // Server-side apply creates what does not exist yet.
    Json secret;
    if (auto err = decode_secret(patch, ns, strict, secret)) {
      return send_error(req, res, *err);
    }
    if (name_of(secret) != name) {
      return send_error(req, res,
                        bad_request("the name of the object (" +
                                    name_of(secret) +
                                    ") does not match the name on the URL (" +
                                    name + ")"));
    }
    if (auto err = validate_secret(secret, nullptr)) {
      return send_error(req, res, *err);
    }
    return create_secret(ctx, req, res, std::move(secret), &patch);
  }
  if (r.error) return send_error(req, res, *r.error);
  send_json(req, res, 200, dry ? canonical_secret(dry_result) : r.body);
}

void handle_delete(ServerContext &ctx, const httplib::Request &req,
                   httplib::Response &res, const std::string &ns,
                   const std::string &name) {
  // DeleteOptions may carry preconditions; anything else in it is accepted
  // and ignored (there is nothing to garbage-collect here).
  std::string uid, rv;
  if (!req.body.empty()) {
    Json opts = Json::parse(req.body, nullptr, false);
    if (opts.is_discarded() || !opts.is_object()) {
      return send_error(req, res,
                        bad_request("the body of a DELETE must be "
                                    "DeleteOptions JSON"));
    }
    if (opts.contains("preconditions") && opts["preconditions"].is_object()) {
      uid = opts["preconditions"].value("uid", std::string());
      rv = opts["preconditions"].value("resourceVersion", std::string());
    }
  }
  if (dry_run(req)) {
    StoreResult r = ctx.store.get(ns, name);
    if (r.error) return send_error(req, res, *r.error);
    return send_json(
        req, res, 200,
        delete_success(name, r.body["metadata"].value("uid", std::string())));
  }
  StoreResult r = ctx.store.remove(ns, name, uid, rv);
  if (r.error) return send_error(req, res, *r.error);
  send_json(req, res, 200, r.body);
}

void handle_collection_get(ServerContext &ctx, const httplib::Request &req,
                           httplib::Response &res, const std::string &ns,
                           const FaultHit *fault) {
  if (is_watch_request(req)) return serve_watch(ctx, req, res, ns, fault);
  serve_list(req, res, ctx.store, ns);
}

}  // namespace

void register_secret_routes(httplib::Server &server, ServerContext &ctx) {
  auto ns_of = [](const httplib::Request &req) { return req.matches[1].str(); };
  auto name_in = [](const httplib::Request &req) {
    return req.matches[2].str();
  };

  server.Get(kCollection,
             guarded(ctx, [&ctx, ns_of](const httplib::Request &req,
                                         httplib::Response &res,
                                         const FaultHit *fault) {
               handle_collection_get(ctx, req, res, ns_of(req), fault);
             }));
  server.Post(kCollection,
              guarded(ctx, [&ctx, ns_of](const httplib::Request &req,
                                          httplib::Response &res,
                                          const FaultHit *) {
                handle_create(ctx, req, res, ns_of(req));
              }));
  server.Get(kItem, guarded(ctx, [&ctx, ns_of, name_in](
                                     const httplib::Request &req,
                                     httplib::Response &res, const FaultHit *) {
               StoreResult r = ctx.store.get(ns_of(req), name_in(req));
               if (r.error) return send_error(req, res, *r.error);
               send_json(req, res, 200, r.body);
             }));
  server.Put(kItem, guarded(ctx, [&ctx, ns_of, name_in](
                                     const httplib::Request &req,
                                     httplib::Response &res, const FaultHit *) {
               handle_replace(ctx, req, res, ns_of(req), name_in(req));
             }));
  server.Patch(kItem, guarded(ctx, [&ctx, ns_of, name_in](
                                       const httplib::Request &req,
                                       httplib::Response &res,
                                       const FaultHit *) {
                 handle_patch(ctx, req, res, ns_of(req), name_in(req));
               }));
  server.Delete(kItem, guarded(ctx, [&ctx, ns_of, name_in](
                                        const httplib::Request &req,
                                        httplib::Response &res,
                                        const FaultHit *) {
                  handle_delete(ctx, req, res, ns_of(req), name_in(req));
                }));

  // All namespaces, and the legacy watch paths (/api/v1/watch/...).
  server.Get(R"(/api/v1/secrets/?)",
             guarded(ctx, [&ctx](const httplib::Request &req,
                                 httplib::Response &res,
                                 const FaultHit *fault) {
               handle_collection_get(ctx, req, res, "", fault);
             }));
  server.Get(R"(/api/v1/watch/namespaces/([^/]+)/secrets/?)",
             guarded(ctx, [&ctx, ns_of](const httplib::Request &req,
                                         httplib::Response &res,
                                         const FaultHit *fault) {
               serve_watch(ctx, req, res, ns_of(req), fault);
             }));
  server.Get(R"(/api/v1/watch/secrets/?)",
             guarded(ctx, [&ctx](const httplib::Request &req,
                                 httplib::Response &res,
                                 const FaultHit *fault) {
               serve_watch(ctx, req, res, "", fault);
             }));
}

}  // namespace kube_test
