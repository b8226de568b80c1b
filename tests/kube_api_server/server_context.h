// What every route handler shares. Owned by main(), outlives the server.
#pragma once

#include <atomic>
#include <string>

#include "bearer_auth.h"
#include "counters.h"
#include "faults.h"
#include "store.h"

namespace kube_test {

enum CertManagerMode { kCertManagerAbsent = 0, kCertManagerServed = 1, kCertManagerForbidden = 2 };

struct ServerContext {
  SecretStore &store;
  Counters &counters;
  Faults &faults;
  BearerAuth &auth;
  std::string dir;  // --dir: token rotation rewrites DIR/token
  int port = 0;     // the bound port, for discovery's serverAddress
  long bookmark_interval_ms = 60000;
  // cert-manager's Certificates (routes_certificates.cc): their store, and
  // whether the CRD is served, absent (404, as on a cluster without
  // cert-manager) or forbidden (403, RBAC without list/watch on them).
  SecretStore *certificates = nullptr;
  std::atomic<int> cert_manager{0};  // a CertManagerMode
};

}  // namespace kube_test
