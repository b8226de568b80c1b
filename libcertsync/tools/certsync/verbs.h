// The verbs. Each takes the words after its name, returns its exit code for
// an outcome it reports itself (accepted, refused, mismatch...) and throws
// Failure (UsageError for a bad command line) when it cannot reach one.
#pragma once

#include <string>
#include <vector>

#include "output.h"

namespace certsync::cli {

using Words = std::vector<std::string>;

int run_check(const Words& words, Context& context);
int run_inspect(const Words& words, Context& context);
int run_watch(const Words& words, Context& context);
int run_probe(const Words& words, Context& context);
int run_explain(const Words& words, Context& context);

extern const char* const kCheckHelp;
extern const char* const kInspectHelp;
extern const char* const kWatchHelp;
extern const char* const kProbeHelp;
extern const char* const kExplainHelp;

}  // namespace certsync::cli
