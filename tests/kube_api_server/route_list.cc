#include "route_list.h"

#include "http_helpers.h"
#include "selectors.h"
#include "status_body.h"

namespace kube_test {

void serve_list(const httplib::Request &req, httplib::Response &res, SecretStore &store, const std::string &ns) {
  ListQuery q;
  q.ns = ns;
  if (auto err = Selector::parse(param(req, "labelSelector"),
                                 param(req, "fieldSelector"), q.selector)) {
    return send_error(req, res, bad_request(*err));
  }
  const std::string limit = param(req, "limit");
  if (!limit.empty()) {
    if (limit.find_first_not_of("0123456789") != std::string::npos ||
        limit.size() > 9) {
      return send_error(req, res,
                        bad_request("invalid limit \"" + limit + "\""));
    }
    q.limit = std::stoul(limit);
  }
  q.continue_token = param(req, "continue");
  q.resource_version = param(req, "resourceVersion");
  // resourceVersion=0 is served from the watch cache on a real v1.26
  // server, which ignores limit there: the whole list in one page.
  if (q.resource_version == "0" && q.continue_token.empty()) q.limit = 0;
  q.resource_version_match = param(req, "resourceVersionMatch");
  StoreResult r = store.list(q);
  if (r.error) {
    send_error(req, res, *r.error);
    if (r.error->code == 504) res.set_header("Retry-After", "1");
    return;
  }
  send_json(req, res, 200, r.body);
}

}  // namespace kube_test
