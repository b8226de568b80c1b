// Verdict: what the plugin decides about one version of one Secret, computed
// with the library's validator (tls/validate.h) and the options the watcher
// would pass it (kube/secret_validation.h), and how that decision is shown.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "kube/watch_options.h"
#include "output.h"
#include "tls/validate.h"

namespace certsync::cli {

// One Secret version's inputs. Views: they must outlive judge().
struct BundleInput {
  std::string_view cert_pem;                // tls.crt
  std::string_view key_pem;                 // tls.key
  std::string_view ca_pem;                  // ca.crt, may be empty
  std::string server_names_annotation;      // certsync.io/server-names, as written
};

struct Verdict {
  tls::ValidationResult result;
  // Whether the leaf chains up to ca.crt. The plugin enforces this only with
  // verify_chain; without it the CLI still checks and reports, as a hint.
  struct ChainCheck {
    bool enforced = false;
    bool trusted = false;
    std::string code, message;  // why not, when untrusted
  };
  std::optional<ChainCheck> chain_to_ca;

  const tls::ValidBundle* accepted() const { return std::get_if<tls::ValidBundle>(&result); }
  const tls::Refusal* refused() const { return std::get_if<tls::Refusal>(&result); }
  // "accepted", "deferred" (accepted, served from notBefore minus the skew) or "refused".
  std::string name() const;
  int exit_code() const;
};

Verdict judge(const kube::WatchOptions& watch, const BundleInput& input);

// The verdict as JSON: verdict, refusal {code, message} or certificate {...},
// chain_to_ca. No key material: a ValidBundle's key_pem is never read here.
nlohmann::json verdict_json(const Verdict& verdict);
// The verdict as human lines, appended to `fields`.
void add_verdict_fields(Fields& fields, const Verdict& verdict);

}  // namespace certsync::cli
