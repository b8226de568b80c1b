// certsync probe: what a TLS endpoint serves for an SNI, and whether it is
// the certificate a Secret holds.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "exit_codes.h"
#include "secret_fetch.h"
#include "settings.h"
#include "tls_probe.h"
#include "verbs.h"
#include "verdict.h"

namespace certsync::cli {

namespace {

struct Endpoint {
  std::string host, port;
};

Endpoint parse_endpoint(const std::string& text) {
  Endpoint out;
  size_t colon;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw UsageError("HOST:PORT expected, e.g. [::1]:443 (got \"" + text + "\")");
    out.host = text.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || text.find(':') != colon)
      throw UsageError("HOST:PORT expected, e.g. kong.example.com:443 or [::1]:443 (got \"" + text + "\")");
    out.host = text.substr(0, colon);
  }
  out.port = text.substr(colon + 1);
  const bool numeric = !out.port.empty() && out.port.size() <= 5 &&
                       std::all_of(out.port.begin(), out.port.end(), [](unsigned char c) { return std::isdigit(c); });
  if (!numeric || std::stoi(out.port) < 1 || std::stoi(out.port) > 65535)
    throw UsageError("the port of " + text + " is not a number from 1 to 65535");
  return out;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::string normalised(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

// The plugin's lookup: the exact name, then a wildcard for one left-most label.
bool covers(const std::vector<std::string>& snis, const std::string& sni) {
  const std::string name = normalised(sni);
  const size_t dot = name.find('.');
  for (const auto& served : snis) {
    if (served == name) return true;
    if (dot != std::string::npos && dot > 0 && served == "*" + name.substr(dot)) return true;
  }
  return false;
}

int timeout_ms(const Args& args) {
  const std::string text = args.value("--timeout").value_or("10");
  const bool numeric = !text.empty() && text.size() <= 3 &&
                       std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
  if (!numeric || std::stoi(text) < 1 || std::stoi(text) > 300)
    throw UsageError("--timeout must be a number of seconds from 1 to 300 (got \"" + text + "\")");
  return std::stoi(text) * 1000;
}

// What probe found, as human lines and as JSON at once, and what it means.
struct Report {
  Fields fields;
  nlohmann::json out;
  int code = kOk;
  std::string result = "served";
};

struct ExpectedSecret {
  std::string namespace_name, name;
};

std::optional<ExpectedSecret> expected_secret(const Args& args) {
  auto expected = args.value("--expect-secret");
  if (!expected) return std::nullopt;
  const size_t slash = expected->find('/');
  if (slash == std::string::npos) throw UsageError("--expect-secret takes NAMESPACE/NAME");
  ExpectedSecret secret{expected->substr(0, slash), expected->substr(slash + 1)};
  check_namespace(secret.namespace_name, "--expect-secret namespace");
  check_object_name(secret.name, "--expect-secret name");
  return secret;
}

void report_served(Report& report, const ProbeRequest& request, const ProbeResult& served) {
  const std::string endpoint = request.host + ":" + request.port;
  report.out = {{"endpoint", endpoint},
                {"sni", request.sni},
                {"protocol", served.protocol},
                {"cipher", served.cipher},
                {"served", facts_json(served.leaf)}};
  report.out["served"]["chain_length"] = served.chain_length;
  Fields& fields = report.fields;
  fields.add("endpoint", endpoint + ", SNI " + request.sni + " (" + served.protocol + ", " + served.cipher + ")");
  fields.add("serial", served.leaf.serial_hex);
  fields.add("sha256", served.leaf.fingerprint_sha256);
  std::vector<std::string> names;
  for (const auto& dns : served.leaf.dns_names) names.push_back("DNS:" + dns);
  for (const auto& ip : served.leaf.ip_addresses) names.push_back("IP:" + ip);
  fields.add("names", names.empty() ? "(no subjectAltName)" : join(names, ", "));
  fields.add("subject", served.leaf.subject);
  fields.add("issuer", served.leaf.issuer);
  fields.add("key type", served.leaf.key_type);
  fields.add("not after", rfc3339(served.leaf.not_after) + " (" + relative_to_now(served.leaf.not_after) + ")");
  fields.add("chain sent",
             std::to_string(served.chain_length) + (served.chain_length == 1 ? " certificate" : " certificates"));
}

void report_verification(Report& report, const ProbeRequest& request, const ProbeResult& served, bool required) {
  if (!served.verify_error) {
    report.fields.add("verified", "not checked (no --ca)");
    return;
  }
  const bool ok = served.verify_error->empty();
  report.out["verification"] = {{"ca_file", request.ca_file}, {"verified", ok}};
  if (!ok) report.out["verification"]["error"] = *served.verify_error;
  report.fields.add("verified", ok ? "yes, against " + request.ca_file + " for " + request.sni
                                   : "NO (" + request.ca_file + "): " + *served.verify_error);
  if (!ok && required) {
    report.code = kMismatch;
    report.result = "unverified";
  }
}

void compare_with_secret(Report& report, const ProbeRequest& request, const ProbeResult& served,
                         const Resolved& resolved, const ExpectedSecret& expected) {
  const kube::Secret secret = fetch_secret(*resolved.connection, expected.namespace_name, expected.name);
  if (!secret.has_tls_keys)
    throw Failure(kNotFound, "Secret " + secret.id() + " holds no tls.crt and tls.key: certsync does not serve it");
  const Verdict verdict =
      judge(resolved.watch, {secret.tls_crt, secret.tls_key.view(), secret.ca_crt, secret.server_names_annotation});
  report.out["secret"] = verdict_json(verdict);
  report.out["secret"]["id"] = secret.id();
  report.out["secret"]["resource_version"] = secret.resource_version;
  const std::string which = secret.id() + " (resourceVersion " + secret.resource_version + "): ";
  if (const tls::Refusal* refusal = verdict.refused()) {
    report.code = kRefused;
    report.result = "refused";
    report.fields.add("secret", which + "refused, " + refusal->code + ": " + refusal->message);
    report.fields.add("result", "REFUSED: the plugin keeps serving the Secret's last good certificate; nothing to compare");
    return;
  }
  const tls::ValidBundle& bundle = *verdict.accepted();
  const bool match = bundle.fingerprint_sha256 == served.leaf.fingerprint_sha256;
  const bool covered = covers(bundle.snis, request.sni);
  report.out["match"] = match;
  report.out["secret"]["covers_sni"] = covered;
  report.fields.add("secret", which + verdict.name() + ", serial " + bundle.serial_hex + ", sha256 " +
                                  bundle.fingerprint_sha256);
  if (!covered)
    report.fields.add("note", "the Secret does not cover " + request.sni +
                                  ": the plugin leaves that name to the host's own certificate");
  if (match) {
    if (report.code == kOk) report.result = "match";
    report.fields.add("result", "MATCH: the served leaf is the Secret's");
  } else {
    report.code = kMismatch;
    report.result = "mismatch";
    report.fields.add("result", "MISMATCH: served serial " + served.leaf.serial_hex + ", the Secret holds serial " +
                                    bundle.serial_hex);
  }
}

}  // namespace

const char* const kProbeHelp =
    "usage: certsync probe HOST:PORT [--sni NAME] [--ca FILE [--require-verified]] [--timeout S]\n"
    "                      [--expect-secret NS/NAME [connection flags]] [--json]\n"
    "\n"
    "Completes a TLS handshake with SNI and shows the leaf served: serial, SHA-256,\n"
    "names, dates, issuer. With --expect-secret, fetches that Secret and compares:\n"
    "the same leaf fingerprint is a match (exit 0), another is a mismatch (exit 3);\n"
    "a Secret whose current version is refused exits 1 (the plugin serves its last good one).\n"
    "\n"
    "  --sni NAME            the server name to send (default: HOST, unless it is an IP address)\n"
    "  --ca FILE             verify the served chain and the name against these CAs and report it\n"
    "  --require-verified    exit 3 when that verification fails (default: report only)\n"
    "  --timeout SECONDS     for the connection and the handshake (10)\n"
    "  --expect-secret NS/NAME  the Secret whose certificate should be served\n";

int run_probe(const Words& words, Context& context) {
  FlagSpec spec{{"--sni", "--ca", "--timeout", "--expect-secret"}, {"--require-verified"}, {}};
  add_connection_flags(spec);
  add_validation_flags(spec);
  Args args = Args::parse(words, spec);
  context.json = args.has("--json");
  if (args.has("--help")) {
    std::printf("%s\n%s\n%s\n%s", kProbeHelp, kConnectionFlagsHelp, kValidationFlagsHelp, kExitCodeHelp);
    return kOk;
  }
  if (args.positionals().size() != 1) throw UsageError("name one HOST:PORT");
  const Endpoint endpoint = parse_endpoint(args.positionals()[0]);
  ProbeRequest request{endpoint.host, endpoint.port, args.value("--sni").value_or(""), args.value("--ca").value_or(""),
                       timeout_ms(args)};
  if (request.sni.empty()) {
    if (is_ip_literal(endpoint.host)) throw UsageError("--sni is required when HOST is an IP address");
    request.sni = endpoint.host;
  }
  if (args.has("--require-verified") && request.ca_file.empty()) throw UsageError("--require-verified needs --ca");
  const std::optional<ExpectedSecret> expected = expected_secret(args);
  // The cluster connection is resolved before the handshake, so a bad
  // kubeconfig fails before anything goes on the network.
  std::optional<Resolved> resolved;
  if (expected) {
    ConfigMap settings = connection_settings(args);
    for (const auto& [key, value] : validation_settings(args)) settings[key] = value;
    resolved = resolve(settings);
  }

  const ProbeResult served = probe_tls(request);
  Report report;
  report_served(report, request, served);
  report_verification(report, request, served, args.has("--require-verified"));
  if (expected) compare_with_secret(report, request, served, *resolved, *expected);
  if (context.json) {
    report.out["result"] = report.result;
    report.out["exit_code"] = report.code;
    print_json(report.out);
  } else {
    report.fields.print();
  }
  return report.code;
}

}  // namespace certsync::cli
