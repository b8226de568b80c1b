// certsync: the command-line face of libcertsync. main() only dispatches:
// each verb lives in its own file, and every error ends here as an exit code.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "args.h"
#include "exit_codes.h"
#include "output.h"
#include "verbs.h"

namespace {

using namespace certsync::cli;

constexpr const char* kVersion = "certsync 0.1.0";

constexpr const char* kOverview =
    "usage: certsync VERB [flags] [--json]\n"
    "\n"
    "The same validator and watcher as the certsync plugin (libcertsync), from a shell.\n"
    "\n"
    "Verbs:\n"
    "  check    --cert tls.crt --key tls.key [--ca ca.crt]    the plugin's verdict on PEM files\n"
    "  inspect  [-n NS] SECRET                                fetch a live Secret and judge it\n"
    "  watch    [-n NS | -A] [-l SELECTOR]                    stream each decision as it happens\n"
    "  probe    HOST:PORT --sni NAME [--expect-secret NS/NAME]\n"
    "                                                         the certificate served there, vs the Secret's\n"
    "  explain  --sni NAME [--status URL]                     from a running node: what serves NAME, and\n"
    "                                                         the first link that does not hold\n"
    "\n"
    "inspect, watch and probe --expect-secret connect like kubectl: --kubeconfig FILE\n"
    "[--context NAME], default $KUBECONFIG or ~/.kube/config; or --in-cluster.\n"
    "`certsync VERB --help` shows a verb's flags. --json prints one JSON document\n"
    "(watch: one JSON object per line) on stdout, errors included.\n"
    "Private keys and tokens are never printed.\n"
    "\n";

bool wants_json(const Words& words) {
  for (const auto& word : words)
    if (word == "--json") return true;
  return false;
}

int dispatch(const std::string& verb, const Words& words, Context& context) {
  if (verb == "check") return run_check(words, context);
  if (verb == "inspect") return run_inspect(words, context);
  if (verb == "watch") return run_watch(words, context);
  if (verb == "probe") return run_probe(words, context);
  if (verb == "explain") return run_explain(words, context);
  throw UsageError("unknown verb \"" + verb + "\" (check, inspect, watch, probe, explain)");
}

}  // namespace

int main(int argc, char** argv) {
  // A reader that goes away (`certsync watch | head`) or a peer that closes
  // mid-handshake must be an error to handle, not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  Words words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    std::printf("%s%s", kOverview, kExitCodeHelp);
    return words.empty() ? kUsage : kOk;
  }
  if (words[0] == "--version") {
    std::printf("%s\n", kVersion);
    return kOk;
  }
  const std::string verb = words[0];
  const Words rest(words.begin() + 1, words.end());
  // Known before parsing, so that even a usage error comes out as JSON.
  Context context{wants_json(rest)};
  try {
    return dispatch(verb, rest, context);
  } catch (const UsageError& e) {
    const std::string hint = verb == "check" || verb == "inspect" || verb == "watch" || verb == "probe"
                                 ? " (see certsync " + verb + " --help)"
                                 : " (see certsync --help)";
    return fail(context, kUsage, std::string(e.what()) + hint);
  } catch (const Failure& e) {
    return fail(context, e.code(), e.what());
  } catch (const std::exception& e) {
    return fail(context, kInternal, std::string("internal error: ") + e.what());
  }
}
