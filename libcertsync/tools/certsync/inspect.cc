// certsync inspect: fetch one live Secret and give the plugin's verdict on it,
// beside the cert-manager Certificate that writes it, when there is one.
#include <ctime>

#include "certificate_fetch.h"
#include "exit_codes.h"
#include "secret_fetch.h"
#include "settings.h"
#include "verbs.h"
#include "verdict.h"

namespace certsync::cli {

const char* const kInspectHelp =
    "usage: certsync inspect [connection flags] [-n NAMESPACE] SECRET [--json]\n"
    "\n"
    "Fetches the Secret (GET, as the identity of the kubeconfig context or service\n"
    "account) and judges its current tls.crt/tls.key as the plugin would, with its\n"
    "annotations and ca.crt, and shows the cert-manager Certificate whose\n"
    "spec.secretName names it (Ready, Issuing, notAfter, renewalTime, revision)\n"
    "where the API has them. Exit 5 when there is no such Secret or it holds no TLS data.\n"
    "\n"
    "  -n, --namespace NS  default: the context's namespace, else \"default\"\n";

int run_inspect(const Words& words, Context& context) {
  FlagSpec spec{{"--namespace"}, {}, {{"-n", "--namespace"}}};
  add_connection_flags(spec);
  add_validation_flags(spec);
  Args args = Args::parse(words, spec);
  context.json = args.has("--json");
  if (args.has("--help")) {
    std::printf("%s\n%s\n%s\n%s", kInspectHelp, kConnectionFlagsHelp, kValidationFlagsHelp, kExitCodeHelp);
    return kOk;
  }
  if (args.positionals().size() != 1) throw UsageError("name one Secret");
  const std::string name = args.positionals()[0];
  check_object_name(name, "SECRET");
  if (auto ns = args.value("--namespace")) check_namespace(*ns, "--namespace");

  ConfigMap settings = connection_settings(args);
  for (const auto& [key, value] : validation_settings(args)) settings[key] = value;
  const Resolved resolved = resolve(settings);
  std::string namespace_name = args.value("--namespace").value_or(resolved.connection->default_namespace);
  if (namespace_name.empty()) namespace_name = "default";  // as kubectl

  const kube::Secret secret = fetch_secret(*resolved.connection, namespace_name, name);
  if (!secret.has_tls_keys) {
    throw Failure(kNotFound, "Secret " + secret.id() + " (type " + secret.type +
                                 ") holds no tls.crt and tls.key: certsync does not serve it");
  }
  const BundleInput input{secret.tls_crt, secret.tls_key.view(), secret.ca_crt, secret.server_names_annotation};
  const Verdict verdict = judge(resolved.watch, input);
  const CertificateLookup lookup = find_certificates(*resolved.connection, namespace_name, name);
  const int64_t now = static_cast<int64_t>(std::time(nullptr));

  if (context.json) {
    nlohmann::json out = verdict_json(verdict);
    out["exit_code"] = verdict.exit_code();
    out["secret"] = {{"namespace", secret.namespace_name}, {"name", secret.name},
                     {"uid", secret.uid},                  {"resource_version", secret.resource_version},
                     {"type", secret.type},                {"has_ca_crt", !secret.ca_crt.empty()}};
    if (!secret.server_names_annotation.empty())
      out["secret"]["server_names_annotation"] = secret.server_names_annotation;
    out["api_server"] = resolved.connection->server;
    // "cert_manager", not "certificate": that one is the X.509 verdict's.
    nlohmann::json cert_manager = {{"certificates", nlohmann::json::array()}};
    for (const auto& c : lookup.certificates) {
      nlohmann::json entry = certmanager::to_json(c);
      entry["renewal_overdue"] = renewal_overdue(c, now);
      cert_manager["certificates"].push_back(std::move(entry));
    }
    if (!lookup.note.empty()) cert_manager["note"] = lookup.note;
    out["cert_manager"] = std::move(cert_manager);
    print_json(out);
  } else {
    Fields fields;
    fields.add("secret", secret.id() + " (resourceVersion " + secret.resource_version + ", type " + secret.type + ")");
    if (!secret.server_names_annotation.empty())
      fields.add("annotation", "certsync.io/server-names: " + secret.server_names_annotation);
    for (const auto& c : lookup.certificates) {
      auto condition = [](const std::optional<certmanager::Condition>& k) {
        if (!k) return std::string("unknown");
        return k->status + (k->reason.empty() ? "" : " (" + k->reason + ")") +
               (k->status != "True" && !k->message.empty() ? ": " + k->message : "");
      };
      fields.add("certificate", c.id() + " (cert-manager, issuer " + c.issuer + ", revision " +
                                    std::to_string(c.revision) + ")");
      fields.add("ready", condition(c.ready));
      if (c.issuing) fields.add("issuing", condition(c.issuing));
      if (c.not_after > 0) fields.add("cm not after", rfc3339(c.not_after) + " (" + relative_to_now(c.not_after) + ")");
      if (c.renewal_time > 0)
        fields.add("renewal", rfc3339(c.renewal_time) + " (" + relative_to_now(c.renewal_time) + ")" +
                                  (renewal_overdue(c, now) ? ": OVERDUE, issuance is failing" : ""));
      if (c.last_failure_time > 0) fields.add("last failure", rfc3339(c.last_failure_time));
    }
    if (lookup.certificates.empty() && !lookup.absent)
      fields.add("certificate", lookup.note.empty() ? "none (no cert-manager Certificate names this Secret)"
                                                    : "unknown: " + lookup.note);
    add_verdict_fields(fields, verdict);
    fields.print();
  }
  return verdict.exit_code();
}

}  // namespace certsync::cli
