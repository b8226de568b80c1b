// A collection LIST (Secrets or Certificates): the query parameters a real
// API server reads (labelSelector, fieldSelector, limit, continue,
// resourceVersion, resourceVersionMatch) into a ListQuery, the store's page,
// and the answer.
#pragma once

#include <string>

#include <httplib.h>

#include "store.h"

namespace kube_test {

void serve_list(const httplib::Request &req, httplib::Response &res, SecretStore &store, const std::string &ns);

}  // namespace kube_test
