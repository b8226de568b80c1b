// certsync check: the plugin's verdict on PEM files, without a cluster.
#include <cerrno>

#include "exit_codes.h"
#include "kube/config_files.h"
#include "settings.h"
#include "util/secret_bytes.h"
#include "verbs.h"
#include "verdict.h"

namespace certsync::cli {

namespace {

// Well above the validator's own 1 MiB limit, so that a file between the two
// gets the plugin's too_large refusal rather than a CLI error.
constexpr size_t kMaxInputFile = 16u << 20;

std::string read_input(const std::string& flag, const std::string& path) {
  std::string text;
  if (const int err = kube::read_file_bounded(path, kMaxInputFile, text)) {
    throw UsageError(flag + " " + path + " cannot be read: " +
                     (err == EFBIG ? std::string("larger than 16 MiB") : kube::errno_text(err)));
  }
  return text;
}

}  // namespace

const char* const kCheckHelp =
    "usage: certsync check --cert tls.crt --key tls.key [--ca ca.crt] [--server-names LIST] [--json]\n"
    "\n"
    "The verdict the plugin would reach on a Secret holding these files: accepted,\n"
    "deferred (valid from notBefore) or refused with a reason code; the names it would\n"
    "be served for, its dates, SHA-256 fingerprint, serial, issuer and key type.\n"
    "\n"
    "  --cert FILE          tls.crt: the leaf, then its chain\n"
    "  --key FILE           tls.key: the leaf's private key (never printed)\n"
    "  --ca FILE            ca.crt: whether the leaf chains up to it is reported; it is\n"
    "                       enforced only with --verify-chain, as in the plugin\n"
    "  --server-names LIST  as the certsync.io/server-names annotation: \"a.example.com,b.example.com\"\n";

int run_check(const Words& words, Context& context) {
  FlagSpec spec{{"--cert", "--key", "--ca", "--server-names"}, {}, {}};
  add_validation_flags(spec);
  Args args = Args::parse(words, spec);
  context.json = args.has("--json");
  if (args.has("--help")) {
    std::printf("%s\n%s\n%s", kCheckHelp, kValidationFlagsHelp, kExitCodeHelp);
    return kOk;
  }
  if (!args.positionals().empty()) throw UsageError("unexpected argument \"" + args.positionals()[0] + "\"");
  const std::string cert_path = args.required("--cert");
  const std::string key_path = args.required("--key");
  const kube::WatchOptions watch = validation_only(validation_settings(args));

  const std::string cert = read_input("--cert", cert_path);
  std::string key_text = read_input("--key", key_path);
  const SecretBytes key(key_text);
  kube::cleanse_string(key_text);
  const std::string ca = args.has("--ca") ? read_input("--ca", args.required("--ca")) : std::string();

  BundleInput input{cert, key.view(), ca, args.value("--server-names").value_or("")};
  const Verdict verdict = judge(watch, input);
  if (context.json) {
    nlohmann::json out = verdict_json(verdict);
    out["exit_code"] = verdict.exit_code();
    out["files"] = {{"cert", cert_path}, {"key", key_path}};
    if (args.has("--ca")) out["files"]["ca"] = *args.value("--ca");
    print_json(out);
  } else {
    Fields fields;
    add_verdict_fields(fields, verdict);
    fields.print();
  }
  return verdict.exit_code();
}

}  // namespace certsync::cli
