// Many Secrets at once, for benchmarks at scale: POST /testing/generate makes
// `count` Secrets in the server's own process (a fresh EC key per ECDSA leaf,
// a small pool of RSA keys reused across RSA leaves, since generating 10,000
// RSA keys would take minutes), signed by one intermediate under one root
// generated per request, and creates them through the store as a client's
// POSTs would (each one a resourceVersion and a watch event).
#pragma once

#include <optional>
#include <string>

#include "json.h"
#include "store.h"

namespace kube_test {

struct GenerateSpec {
  std::string ns = "default";
  std::string prefix = "gen";  // Secret i is named PREFIX-i
  size_t start = 0;            // the first i
  size_t count = 0;            // 1 .. kMaxGenerate
  std::string type;            // default: kubernetes.io/tls, or Opaque for blobs
  // "tls": tls.crt (leaf, plus the intermediate when chain is 2), tls.key and
  // ca.crt (the root). "blob": one data key "blob" of blob_bytes random bytes,
  // a stand-in for the Helm releases and tokens that share a namespace.
  std::string payload = "tls";
  std::string keys = "ec";     // ec | rsa | mixed (alternating, even i ECDSA)
  int chain = 2;               // 1: the leaf alone; 2: leaf + intermediate
  std::string domain = "bench.test";  // leaf i is PREFIX-i.DOMAIN
  bool wildcard = false;              // and *.PREFIX-i.DOMAIN
  size_t blob_bytes = 100 * 1024;
};

inline constexpr size_t kMaxGenerate = 200000;

// nullopt and `error` naming the field when the body is not a valid spec.
std::optional<GenerateSpec> parse_generate_spec(const Json &body, std::string &error);

// Creates the Secrets; a summary {"created", "resourceVersion", "first",
// "last"} or, on the first failure, an error naming the Secret.
StoreResult generate_secrets(SecretStore &store, const GenerateSpec &spec);

}  // namespace kube_test
