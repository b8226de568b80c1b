// certsync inspect: fetch one live Secret and give the plugin's verdict on it.
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
    "annotations and ca.crt. Exit 5 when there is no such Secret or it holds no TLS data.\n"
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

  if (context.json) {
    nlohmann::json out = verdict_json(verdict);
    out["exit_code"] = verdict.exit_code();
    out["secret"] = {{"namespace", secret.namespace_name}, {"name", secret.name},
                     {"uid", secret.uid},                  {"resource_version", secret.resource_version},
                     {"type", secret.type},                {"has_ca_crt", !secret.ca_crt.empty()}};
    if (!secret.server_names_annotation.empty())
      out["secret"]["server_names_annotation"] = secret.server_names_annotation;
    out["api_server"] = resolved.connection->server;
    print_json(out);
  } else {
    Fields fields;
    fields.add("secret", secret.id() + " (resourceVersion " + secret.resource_version + ", type " + secret.type + ")");
    if (!secret.server_names_annotation.empty())
      fields.add("annotation", "certsync.io/server-names: " + secret.server_names_annotation);
    add_verdict_fields(fields, verdict);
    fields.print();
  }
  return verdict.exit_code();
}

}  // namespace certsync::cli
