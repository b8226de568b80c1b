#include "verdict.h"

#include "exit_codes.h"
#include "kube/secret_validation.h"
#include "tls/reasons.h"

namespace certsync::cli {

namespace {

bool blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

}  // namespace

std::string Verdict::name() const {
  if (refused() != nullptr) return "refused";
  return accepted()->not_yet_valid ? "deferred" : "accepted";
}

int Verdict::exit_code() const { return refused() != nullptr ? kRefused : kOk; }

Verdict judge(const kube::WatchOptions& watch, const BundleInput& input) {
  // The options the watcher would pass for a Secret holding these (kube/secret_validation.h).
  const tls::ValidationOptions options =
      kube::validation_options_for(input.ca_pem, input.server_names_annotation, watch);
  Verdict verdict{tls::validate_bundle(input.cert_pem, input.key_pem, options), std::nullopt};
  if (blank(input.ca_pem)) return verdict;
  Verdict::ChainCheck chain;
  chain.enforced = options.verify_chain;
  if (const tls::Refusal* refusal = verdict.refused()) {
    // Only a chain refusal says anything about the chain; any other one came first.
    if (refusal->code != tls::reason::kChainUntrusted && refusal->code != tls::reason::kCaParseError)
      return verdict;
    chain.code = refusal->code;
    chain.message = refusal->message;
  } else if (chain.enforced) {
    chain.trusted = true;
  } else {
    // The same validator with verify_chain on: the bundle passed every other
    // check, so a refusal now can only be about the chain.
    tls::ValidationOptions strict = options;
    strict.verify_chain = true;
    auto second = tls::validate_bundle(input.cert_pem, input.key_pem, strict);
    if (auto* strict_refusal = std::get_if<tls::Refusal>(&second)) {
      chain.code = strict_refusal->code;
      chain.message = strict_refusal->message;
    } else {
      chain.trusted = true;
    }
  }
  verdict.chain_to_ca = chain;
  return verdict;
}

nlohmann::json verdict_json(const Verdict& verdict) {
  nlohmann::json out = {{"verdict", verdict.name()}};
  if (const tls::Refusal* refusal = verdict.refused()) {
    out["refusal"] = {{"code", refusal->code}, {"message", refusal->message}};
  } else {
    const tls::ValidBundle& b = *verdict.accepted();
    out["certificate"] = {{"snis", b.snis},
                          {"ip_addresses", b.ip_addresses},
                          {"ignored_names", b.ignored_names},
                          {"serial", b.serial_hex},
                          {"fingerprint_sha256", b.fingerprint_sha256},
                          {"subject", b.subject},
                          {"issuer", b.issuer},
                          {"not_before", rfc3339(b.not_before)},
                          {"not_after", rfc3339(b.not_after)},
                          {"key_type", b.key_type},
                          {"chain_length", b.chain_length},
                          {"expired", b.expired},
                          {"temporary", b.temporary},
                          {"chain_reordered", b.chain_reordered},
                          {"chain_incomplete", b.chain_incomplete},
                          {"chain_missing_issuer", b.chain_missing_issuer},
                          {"chain_completed", b.chain_completed}};
    if (b.not_yet_valid) out["certificate"]["serve_from"] = rfc3339(b.deferred_until);
  }
  if (verdict.chain_to_ca) {
    const auto& chain = *verdict.chain_to_ca;
    out["chain_to_ca"] = {{"trusted", chain.trusted}, {"enforced", chain.enforced}};
    if (!chain.trusted) out["chain_to_ca"]["refusal"] = {{"code", chain.code}, {"message", chain.message}};
  }
  return out;
}

void add_verdict_fields(Fields& fields, const Verdict& verdict) {
  if (const tls::Refusal* refusal = verdict.refused()) {
    fields.add("verdict", "refused: " + refusal->code);
    fields.add("reason", refusal->message);
  } else {
    const tls::ValidBundle& b = *verdict.accepted();
    fields.add("verdict", b.not_yet_valid ? "deferred: accepted, served from " + rfc3339(b.deferred_until) +
                                                " (notBefore minus the clock skew)"
                                          : std::string("accepted"));
    fields.add("names", join(b.snis, ", "));
    if (!b.ip_addresses.empty()) fields.add("IP SANs", join(b.ip_addresses, ", ") + " (recorded, not served)");
    if (!b.ignored_names.empty()) fields.add("ignored names", join(b.ignored_names, ", "));
    fields.add("serial", b.serial_hex);
    fields.add("sha256", b.fingerprint_sha256);
    fields.add("subject", b.subject);
    fields.add("issuer", b.issuer);
    fields.add("key type", b.key_type);
    fields.add("not before", rfc3339(b.not_before));
    fields.add("not after", rfc3339(b.not_after) + " (" + relative_to_now(b.not_after) + ")" +
                                (b.expired ? ": EXPIRED, served only while nothing better exists" : ""));
    fields.add("chain", std::to_string(b.chain_length) + (b.chain_length == 1 ? " certificate" : " certificates") +
                            (b.chain_reordered ? ", re-sorted (reorder_chain)" : ""));
    const std::string chain_note = tls::describe_chain(b);
    if (!chain_note.empty()) fields.add(b.chain_incomplete ? "CHAIN INCOMPLETE" : "chain completed", chain_note);
    if (b.temporary)
      fields.add("temporary", "yes: cert-manager's placeholder; never replaces a valid real certificate");
  }
  if (verdict.chain_to_ca) {
    const auto& chain = *verdict.chain_to_ca;
    std::string text = chain.trusted ? "trusted" : "untrusted (" + chain.code + "): " + chain.message;
    if (!chain.enforced) text += " (not enforced: the plugin checks this only with verify_chain)";
    fields.add("chain to ca", text);
  }
}

}  // namespace certsync::cli
