// certsync watch: the library itself, driven through its C ABI exactly as
// the Lua plugin drives it, printing each decision as it is made.
#include <signal.h>
#include <time.h>

#include <csignal>
#include <cstdio>

#include "exit_codes.h"
#include "settings.h"
#include "verbs.h"
#include "watch_events.h"

namespace certsync::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

// No SA_RESTART: the pause between polls ends at once on SIGINT or SIGTERM.
void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// The plugin polls every 0.2 s; a tenth of a second keeps the CLI ahead of it.
void pause_between_polls() {
  timespec interval{0, 100 * 1000 * 1000};
  nanosleep(&interval, nullptr);
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The library's settings for this command line: connection, validation, scope.
ConfigMap watch_settings(const Args& args) {
  ConfigMap settings = connection_settings(args);
  for (const auto& [key, value] : validation_settings(args)) settings[key] = value;
  if (args.has("--all-namespaces")) {
    if (args.has("--namespace")) throw UsageError("-A and -n exclude each other");
    settings["namespaces"] = "*";
  } else if (args.has("--namespace")) {
    std::vector<std::string> namespaces;
    for (const auto& value : args.all("--namespace"))
      for (const auto& ns : split_commas(value)) {
        check_namespace(ns, "--namespace");
        namespaces.push_back(ns);
      }
    if (namespaces.empty()) throw UsageError("--namespace needs a namespace");
    settings["namespaces"] = join(namespaces, ",");
  }
  if (auto selector = args.value("--selector")) settings["label_selector"] = *selector;
  if (auto policy = args.value("--deletion-policy")) settings["deletion_policy"] = *policy;
  if (auto types = args.value("--secret-types")) settings["secret_types"] = *types;
  for (const auto& [key, value] : settings) {
    if (auto error = check_config_entry(key, value)) throw UsageError(*error);
  }
  return settings;
}

struct Config {
  certsync_config_t* cfg;
  ~Config() { certsync_config_free(cfg); }
};

struct Instance {
  certsync_t* cs;
  ~Instance() { certsync_destroy(cs); }  // stops the watchers within a second
};

// Takes a message from the library (and frees it) as a Failure.
Failure library_failure(int code, char* error, const char* fallback) {
  const std::string message = error != nullptr ? error : fallback;
  certsync_free(error);
  return Failure(code, message);
}

}  // namespace

const char* const kWatchHelp =
    "usage: certsync watch [connection flags] [-n NS[,NS...] | -A] [-l SELECTOR] [--secret-types T,...]\n"
    "                      [--json] [-v]\n"
    "\n"
    "Runs the plugin's watcher (libcertsync, through its C ABI) and prints one line per\n"
    "decision: serving (at the first sync), accepted, refused (with its reason code),\n"
    "deferred, deleted, removed, and the watcher's errors. Runs until SIGINT or SIGTERM;\n"
    "exits 0, or 4 when it never completed a first list.\n"
    "\n"
    "  -n, --namespace NS       namespaces to watch, repeatable or comma-separated\n"
    "                           (default: the context's namespace, else \"default\")\n"
    "  -A, --all-namespaces     one watch for every namespace\n"
    "  -l, --selector SELECTOR  a label selector, e.g. app=web\n"
    "  --deletion-policy P      keep (default) or remove, as the plugin's setting\n"
    "  --secret-types T[,T...]  Secret types to watch, as the plugin's secret_types\n"
    "                           (default kubernetes.io/tls; \"*\": every type)\n"
    "  -v, --verbose            every library log record too (stderr; --json: stdout)\n";

int run_watch(const Words& words, Context& context) {
  FlagSpec spec{{"--namespace", "--selector", "--deletion-policy", "--secret-types"},
                {"--all-namespaces", "--verbose"},
                {{"-n", "--namespace"}, {"-A", "--all-namespaces"}, {"-l", "--selector"}, {"-v", "--verbose"}}};
  add_connection_flags(spec);
  add_validation_flags(spec);
  Args args = Args::parse(words, spec);
  context.json = args.has("--json");
  if (args.has("--help")) {
    std::printf("%s\n%s\n%s\n%s", kWatchHelp, kConnectionFlagsHelp, kValidationFlagsHelp, kExitCodeHelp);
    return kOk;
  }
  if (!args.positionals().empty()) throw UsageError("unexpected argument \"" + args.positionals()[0] + "\"");
  ConfigMap settings = watch_settings(args);
  // Resolved here first: a bad kubeconfig fails with the library's message
  // before anything starts, and the default namespace is known (kubectl's
  // "default" when the context names none, where the library would refuse).
  const Resolved resolved = resolve(settings);
  if (!settings.count("namespaces")) {
    const std::string ns = resolved.connection->default_namespace;
    settings["namespaces"] = ns.empty() ? "default" : ns;
  }

  Config config{certsync_config_new()};
  if (config.cfg == nullptr) throw Failure(kInternal, "out of memory");
  for (const auto& [key, value] : settings) {
    char* error = nullptr;
    if (certsync_config_set(config.cfg, key.c_str(), value.c_str(), &error) != 0)
      throw library_failure(kUsage, error, "a setting was refused");
  }
  char* error = nullptr;
  Instance instance{certsync_new(config.cfg, &error)};
  if (instance.cs == nullptr) throw library_failure(kConfig, error, "the configuration was refused");

  install_signal_handlers();
  if (certsync_start(instance.cs, &error) != 0) throw library_failure(kInternal, error, "the watcher did not start");
  if (!context.json) {
    const std::string scope = settings["namespaces"] == "*" ? "all namespaces" : "namespace " + settings["namespaces"];
    const std::string types = settings.count("secret_types") ? settings["secret_types"] : "kubernetes.io/tls";
    std::fprintf(stderr, "certsync: watching Secrets of type %s in %s%s at %s (%s); Ctrl-C stops\n", types.c_str(),
                 scope.c_str(),
                 settings.count("label_selector") ? (" matching " + settings["label_selector"]).c_str() : "",
                 resolved.connection->server.c_str(), resolved.description.c_str());
  }
  WatchEvents events(context.json, args.has("--verbose"));
  while (!g_stop && events.output_ok()) {
    events.poll(instance.cs);
    if (!g_stop) pause_between_polls();
  }
  if (!events.synced()) {
    throw Failure(kUnreachable, "stopped before the first list of Secrets completed" +
                                    (events.last_error().empty() ? std::string() : ": " + events.last_error()));
  }
  return kOk;
}

}  // namespace certsync::cli
