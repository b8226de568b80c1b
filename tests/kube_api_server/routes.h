// Route registration, one function per family of endpoints, and the guard
// every Kubernetes API route goes through.
#pragma once

#include <httplib.h>

#include <functional>
#include <string>

#include "faults.h"
#include "server_context.h"

namespace kube_test {

// An API handler; `fault` is the fault that fired for this request with
// nothing left to do before the handler (a watch drop), or nullptr.
using ApiHandler = std::function<void(
    const httplib::Request &, httplib::Response &, const FaultHit *fault)>;

// What a real server does before any handler, in its order: count the
// request, authenticate (401), then apply an injected fault if one is queued
// (stall, error Status with Retry-After). Defined in api_guard.cc.
httplib::Server::Handler guarded(ServerContext &ctx, ApiHandler handler);

// /api, /api/v1, /apis, /version, /openapi/v3..., /healthz, /livez, /readyz.
void register_discovery_routes(httplib::Server &server, ServerContext &ctx);
// /api/v1/namespaces/{ns}/secrets[/{name}], /api/v1/secrets and the legacy
// /api/v1/watch/... paths.
void register_secret_routes(httplib::Server &server, ServerContext &ctx);
// /testing/...: counters, faults, token rotation, compaction. No auth.
void register_testing_routes(httplib::Server &server, ServerContext &ctx);

// /apis/cert-manager.io/v1/...certificates[/{name}[/status]], as the
// cert-manager CRD serves them, or 404 / 403 as ctx.cert_manager says.
void register_certificate_routes(httplib::Server &server, ServerContext &ctx);

// Streams a watch of the objects of `store` (default: the Secrets) in `ns`
// (all namespaces when empty). Defined in routes_watch.cc.
void serve_watch(ServerContext &ctx, const httplib::Request &req,
                 httplib::Response &res, const std::string &ns,
                 const FaultHit *fault, SecretStore *store = nullptr);

}  // namespace kube_test
