// kube-api-test-server: a Kubernetes API server for Secrets that the tests,
// the e2e specs and the demo start themselves. See README.md.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "api_server.h"
#include "bearer_auth.h"
#include "counters.h"
#include "faults.h"
#include "options.h"
#include "output_files.h"
#include "server_context.h"
#include "certificate_object.h"
#include "state_file.h"
#include "store.h"
#include "tls_material.h"

namespace {

using namespace kube_test;

int fail(const std::string &what) {
  std::fprintf(stderr, "kube-api-test-server: %s\n", what.c_str());
  return 1;
}

bool write_or_complain(const std::string &path, const std::string &content,
                       unsigned mode) {
  if (write_file_atomically(path, content, mode)) return true;
  std::fprintf(stderr, "kube-api-test-server: cannot write %s: %s\n",
               path.c_str(), std::strerror(errno));
  return false;
}

}  // namespace

int main(int argc, char **argv) {
  std::string error;
  bool help = false;
  auto opts = parse_options(argc, argv, error, help);
  if (help) {
    std::fputs(usage(), stdout);
    return 0;
  }
  if (!opts) {
    std::fprintf(stderr, "kube-api-test-server: %s\n\n%s", error.c_str(),
                 usage());
    return 2;
  }
  const std::string dir = opts->dir;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail("cannot create " + dir + ": " + std::strerror(errno));
  }
  // A previous run's readiness files must not pass for this run's.
  ::unlink((dir + "/server").c_str());
  ::unlink((dir + "/port").c_str());

  // Signals are taken synchronously by main (sigwait) so that no handler
  // runs inside a connection thread; the mask is inherited by every thread
  // started after this point. SIGPIPE: a client that hangs up must only fail
  // a write, not kill the server.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const std::string token = opts->token.empty() ? random_token() : opts->token;
  if (token.empty()) return fail("cannot generate a random token");
  SecretStore store(opts->history_limit);
  std::optional<TlsMaterial> tls;
  if (!opts->state_file.empty()) {
    auto loaded = load_state(opts->state_file, store, !opts->forget_history,
                             error);
    if (!loaded) return fail(error);
    if (!opts->new_tls) tls = std::move(loaded->tls);
    if (loaded->found) {
      std::fprintf(stderr,
                   "[kube-api-test-server] state loaded from %s "
                   "(resourceVersion %llu%s)\n",
                   opts->state_file.c_str(),
                   static_cast<unsigned long long>(store.current_rv()),
                   opts->forget_history ? ", history forgotten" : "");
    }
  }
  if (!tls) tls = generate_tls_material(error);
  if (!tls) return fail(error);
  if (!write_or_complain(dir + "/ca.crt", tls->ca_cert_pem, 0644) ||
      !write_or_complain(dir + "/server.crt", tls->server_cert_pem, 0644) ||
      !write_or_complain(dir + "/token", token, 0600) ||
      !write_or_complain(dir + "/pid", std::to_string(getpid()) + "\n", 0644)) {
    return 1;
  }

  // Certificates are not part of --state: a restart starts them empty.
  SecretStore certificates(opts->history_limit, 100, certificate_kind());
  Counters counters;
  Faults faults;
  if (!opts->faults.empty()) {
    // Queued before the port opens, so that no client gets in first (a
    // server coming back from an outage already failing).
    const Json spec = Json::parse(opts->faults, nullptr, false);
    if (spec.is_discarded()) return fail("--faults is not valid JSON");
    if (auto err = faults.add(spec)) return fail("--faults: " + *err);
  }
  BearerAuth auth(token);
  ServerContext ctx{store, counters, faults, auth, dir, 0,
                    opts->bookmark_interval_ms};
  ctx.certificates = &certificates;
  ctx.cert_manager = cert_manager_mode(opts->cert_manager);
  ApiServer server(ctx, *tls);
  const int port = server.bind(opts->port);
  if (port <= 0) {
    return fail("cannot listen on 127.0.0.1:" + std::to_string(opts->port));
  }
  ctx.port = port;
  const std::string url = "https://127.0.0.1:" + std::to_string(port);

  std::thread accept_loop([&server] {
    if (!server.run()) {
      std::fprintf(stderr, "kube-api-test-server: the accept loop failed\n");
    }
  });

  // The socket is already listening (connections queue in the backlog), so
  // announcing now is safe; `server` is written last: it means "ready".
  const bool announced =
      write_or_complain(dir + "/kubeconfig",
                        kubeconfig_yaml(url, tls->ca_cert_pem, token), 0600) &&
      write_or_complain(dir + "/port", std::to_string(port) + "\n", 0644) &&
      write_or_complain(dir + "/server", url + "\n", 0644);
  if (announced) {
    std::fprintf(stderr, "[kube-api-test-server] listening on %s (dir %s)\n",
                 url.c_str(), dir.c_str());
  }

  int sig = 0;
  if (announced) sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "[kube-api-test-server] stopping (%s)\n",
               sig != 0 ? strsignal(sig) : "startup failed");
  // Order matters: wake and end the watches first, then stop accepting and
  // wait for the connection threads.
  store.shutdown();
  certificates.shutdown();
  server.stop();
  accept_loop.join();
  // Every connection has ended: no write can slip past the saved state.
  bool saved = true;
  if (!opts->state_file.empty() && announced) {
    saved = save_state(opts->state_file, store, *tls, error);
    if (!saved) std::fprintf(stderr, "kube-api-test-server: %s\n", error.c_str());
  }
  ::unlink((dir + "/server").c_str());
  ::unlink((dir + "/port").c_str());
  std::fprintf(stderr, "[kube-api-test-server] stopped\n");
  return announced && saved ? 0 : 1;
}
