// Small pieces every handler uses to answer like a kube-apiserver.
#pragma once

#include <httplib.h>

#include <string>

#include "json.h"
#include "status_body.h"

namespace kube_test {

// Headers a real server puts on every answer (Audit-Id, Cache-Control).
void set_common_headers(httplib::Response &res);

// JSON body with the given status. Pretty-printed (2 spaces) for curl/wget
// user agents or ?pretty=true, compact otherwise: the real server does the
// same, which is why the recorded samples are indented.
void send_json(const httplib::Request &req, httplib::Response &res, int code,
               const Json &body);
void send_error(const httplib::Request &req, httplib::Response &res,
                const ApiError &err);

// The media type without parameters, lower-cased
// ("application/json; charset=utf-8" -> "application/json").
std::string media_type(const httplib::Request &req);

// Query parameter or "" when absent.
std::string param(const httplib::Request &req, const char *name);

// The request's socket (via its SSL object), or -1.
int request_socket(const httplib::Request &req);

// The peer closed its end of `fd` (FIN or reset); false for fd < 0. Reads
// nothing: TLS records from the client must not read as a hang-up.
bool peer_hung_up(int fd);

}  // namespace kube_test
