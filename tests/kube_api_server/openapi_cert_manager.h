// OpenAPI v3 for cert-manager.io/v1 Certificates, as a real server publishes
// a CRD's schema: enough for kubectl apply/replace/patch to find the kind
// and that it takes server-side field validation (fieldValidation).
#pragma once

#include <string>

namespace kube_test {

const std::string &openapi_v3_cert_manager();
const std::string &openapi_v3_cert_manager_hash();

}  // namespace kube_test
