// certsync explain --sni NAME: from a running node's status, the chain of
// custody of one server name (which Secret covers it, which Certificate
// writes that Secret, what the node's workers serve, whether the node takes
// traffic) and the first link that does not hold.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "args.h"
#include "exit_codes.h"
#include "explain_links.h"
#include "status_fetch.h"
#include "verbs.h"

namespace certsync::cli {

const char* const kExplainHelp =
    "usage: certsync explain --sni NAME [--status URL] [--json]\n"
    "\n"
    "Reads a running node's certsync status (Kong's Status API) and tells, for one\n"
    "server name: which watched Secret covers it, which cert-manager Certificate\n"
    "writes that Secret, what each worker serves, whether the node is ready, and the\n"
    "first link that does not hold. Exit 0 when every link holds, 3 when one is\n"
    "broken, 5 when no watched Secret covers the name, 4 when the status cannot be read.\n"
    "\n"
    "  --sni NAME     the server name a client asks for\n"
    "  --status URL   the Status API, default http://127.0.0.1:8100 (status_listen)\n";

namespace {

constexpr const char* kDefaultStatusUrl = "http://127.0.0.1:8100";

nlohmann::json links_json(const Explanation& explanation) {
  nlohmann::json links = nlohmann::json::array();
  for (const Link& link : explanation.links) {
    links.push_back({{"link", link.name}, {"holds", !link.broken}, {"detail", link.detail}});
  }
  return links;
}

}  // namespace

int run_explain(const Words& words, Context& context) {
  FlagSpec spec{{"--sni", "--status"}, {}, {}};
  Args args = Args::parse(words, spec);
  context.json = args.has("--json");
  if (args.has("--help")) {
    std::printf("%s\n%s", kExplainHelp, kExitCodeHelp);
    return kOk;
  }
  if (!args.positionals().empty()) throw UsageError("explain takes no positional argument (use --sni NAME)");
  const std::string sni = args.required("--sni");
  if (sni.empty() || sni.size() > 253) throw UsageError("--sni must be a server name of 1 to 253 characters");
  const std::string url = args.value("--status").value_or(kDefaultStatusUrl);

  const nlohmann::json status = fetch_status(url, sni_query(sni));
  // Refused Secrets serve nothing, so no name filter finds them: when the
  // name is not covered, one of them may be why. Read the whole status then.
  nlohmann::json everything;
  if (!covers_anything(status)) everything = fetch_status(url, "");
  const Explanation explanation = explain(status, everything.is_null() ? nullptr : &everything, sni);

  if (context.json) {
    nlohmann::json out = {{"sni", sni},
                          {"status_url", url},
                          {"links", links_json(explanation)},
                          {"verdict", explanation.verdict},
                          {"exit_code", explanation.exit_code}};
    out["broken_link"] = explanation.broken_link.empty() ? nlohmann::json(nullptr)
                                                         : nlohmann::json(explanation.broken_link);
    print_json(out);
  } else {
    Fields fields;
    fields.add("name", sni);
    for (const Link& link : explanation.links) fields.add(link.name, (link.broken ? "BROKEN: " : "") + link.detail);
    fields.add("verdict", explanation.verdict);
    fields.print();
  }
  return explanation.exit_code;
}

}  // namespace certsync::cli
