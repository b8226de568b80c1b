// --state FILE: what the server keeps across a restart, for tests of a
// client facing an API server that goes away and comes back on the same
// port. Written at exit (after every connection has ended, so no write is in
// flight), read at start when the file exists. It holds the store (objects,
// resourceVersion counter, event history) and the TLS identity: a real
// kube-apiserver comes back with its etcd data and its certificates. The
// file is 0600 because it carries the throwaway TLS keys.
#pragma once

#include <optional>
#include <string>

#include "store.h"
#include "tls_material.h"

namespace kube_test {

struct LoadedState {
  bool found = false;              // false: no file yet (a first start)
  std::optional<TlsMaterial> tls;  // the identity saved with the store
};

// Restores `store` from `path`; nullopt with `error` set when the file exists
// but cannot be used (a broken state must not pass for an empty server).
std::optional<LoadedState> load_state(const std::string &path,
                                      SecretStore &store, bool keep_history,
                                      std::string &error);

bool save_state(const std::string &path, const SecretStore &store,
                const TlsMaterial &tls, std::string &error);

}  // namespace kube_test
