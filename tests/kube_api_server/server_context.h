// What every route handler shares. Owned by main(), outlives the server.
#pragma once

#include <string>

#include "bearer_auth.h"
#include "counters.h"
#include "faults.h"
#include "store.h"

namespace kube_test {

struct ServerContext {
  SecretStore &store;
  Counters &counters;
  Faults &faults;
  BearerAuth &auth;
  std::string dir;  // --dir: token rotation rewrites DIR/token
  int port = 0;     // the bound port, for discovery's serverAddress
  long bookmark_interval_ms = 60000;
};

}  // namespace kube_test
