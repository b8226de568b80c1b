// Test control under /testing/: what a test needs to observe or steer the
// server beyond what the Kubernetes API offers. No authentication, so a test
// can still reach it while it makes the API refuse every token.
//
//   GET    /testing/counters         request counts per kind, open_watches
//   POST   /testing/counters/reset   zero the request counts
//   GET    /testing/faults           queued faults
//   POST   /testing/faults           queue fault(s), see faults.h, e.g.
//                                    {"status":429,"retry_after":2,"count":1}
//   DELETE /testing/faults           drop every queued fault
//   POST   /testing/token            {"token":"new"}: accept only this token
//                                    from now on (DIR/token is rewritten)
//   POST   /testing/compact          forget the event history: watches from
//                                    any older resourceVersion get 410
//   POST   /testing/close-watches    end every open watch normally
//   POST   /testing/generate         create many generated Secrets at once
//                                    (see secret_generator.h), e.g.
//                                    {"count":10000,"keys":"mixed"}
#include "http_helpers.h"
#include "output_files.h"
#include "certificate_object.h"
#include "routes.h"
#include "secret_generator.h"

namespace kube_test {
namespace {

Json parse_body(const httplib::Request &req) {
  return Json::parse(req.body, nullptr, false);
}

}  // namespace

void register_testing_routes(httplib::Server &server, ServerContext &ctx) {
  server.Get("/testing/counters",
             [&ctx](const httplib::Request &req, httplib::Response &res) {
               send_json(req, res, 200, ctx.counters.snapshot());
             });
  server.Post("/testing/counters/reset",
              [&ctx](const httplib::Request &req, httplib::Response &res) {
                ctx.counters.reset();
                send_json(req, res, 200, ctx.counters.snapshot());
              });
  server.Get("/testing/faults",
             [&ctx](const httplib::Request &req, httplib::Response &res) {
               send_json(req, res, 200, ctx.faults.describe());
             });
  server.Post("/testing/faults",
              [&ctx](const httplib::Request &req, httplib::Response &res) {
                Json spec = parse_body(req);
                if (spec.is_discarded()) {
                  return send_error(req, res,
                                    bad_request("the body is not valid JSON"));
                }
                if (auto err = ctx.faults.add(spec)) {
                  return send_error(req, res, bad_request(*err));
                }
                send_json(req, res, 201, ctx.faults.describe());
              });
  server.Delete("/testing/faults",
                [&ctx](const httplib::Request &req, httplib::Response &res) {
                  ctx.faults.clear();
                  send_json(req, res, 200, ctx.faults.describe());
                });
  server.Post("/testing/token", [&ctx](const httplib::Request &req,
                                       httplib::Response &res) {
    Json body = parse_body(req);
    if (!body.is_object() || !body.contains("token") ||
        !body["token"].is_string() ||
        body["token"].get<std::string>().empty()) {
      return send_error(req, res,
                        bad_request("expected {\"token\":\"<new token>\"}"));
    }
    const std::string token = body["token"].get<std::string>();
    ctx.auth.rotate(token);
    if (!write_file_atomically(ctx.dir + "/token", token, 0600)) {
      return send_error(req, res,
                        ApiError{500, failure_status(500, "InternalError",
                                                     "cannot rewrite the "
                                                     "token file")});
    }
    Json ok;
    ok["rotated"] = true;
    send_json(req, res, 200, ok);
  });
  server.Post("/testing/compact",
              [&ctx](const httplib::Request &req, httplib::Response &res) {
                ctx.store.compact();
                Json ok;
                ok["compacted_rv"] = std::to_string(ctx.store.current_rv());
                send_json(req, res, 200, ok);
              });
  server.Post("/testing/close-watches",
              [&ctx](const httplib::Request &req, httplib::Response &res) {
                ctx.store.close_watches();
                if (ctx.certificates != nullptr) ctx.certificates->close_watches();
                Json ok;
                ok["closed"] = true;
                send_json(req, res, 200, ok);
              });
  // {"mode":"absent"|"served"|"forbidden"}: install or remove cert-manager's
  // CRD, or take list/watch on it away, while clients run.
  server.Post("/testing/cert-manager",
              [&ctx](const httplib::Request &req, httplib::Response &res) {
                Json body = parse_body(req);
                const std::string mode =
                    body.is_object() ? body.value("mode", std::string()) : "";
                if (mode != "absent" && mode != "served" && mode != "forbidden") {
                  return send_error(req, res,
                                    bad_request("mode must be absent, served or "
                                                "forbidden"));
                }
                ctx.cert_manager = cert_manager_mode(mode);
                Json ok;
                ok["mode"] = mode;
                send_json(req, res, 200, ok);
              });
  server.Post("/testing/generate",
              [&ctx](const httplib::Request &req, httplib::Response &res) {
                std::string error;
                auto spec = parse_generate_spec(parse_body(req), error);
                if (!spec) return send_error(req, res, bad_request(error));
                StoreResult result = generate_secrets(ctx.store, *spec);
                if (result.error) return send_error(req, res, *result.error);
                send_json(req, res, 201, result.body);
              });
}

}  // namespace kube_test
