// Child processes for the CLI tests: the built `certsync` binary run to
// completion, and long-running ones (`certsync watch`, `openssl s_server`)
// whose output is read while they run. Every wait has a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace certsync::testing {

struct CliRun {
  int exit_code = -1;  // -1: killed at the deadline or by a signal
  std::string out;
  std::string err;
};

// Runs CERTSYNC_CLI_PATH with `args`; `env` entries are added to (or, with an
// empty value, removed from) the inherited environment.
CliRun run_cli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
               std::chrono::milliseconds deadline = std::chrono::seconds(60));

// A process whose stdout and stderr go to files in `dir`, stdin /dev/null.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::string& dir, const std::string& name, const std::vector<std::string>& argv);
  ~BackgroundProcess();  // SIGKILL if still running, then reaped
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  std::string out() const;
  std::string err() const;
  // Waits until `condition(out())` holds; false at the deadline.
  bool wait_for_out(const std::function<bool(const std::string&)>& condition,
                    std::chrono::milliseconds deadline = std::chrono::seconds(20)) const;
  void signal(int signo) const;
  // The exit code once it has exited (-1 for a death by signal); nullopt at the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline = std::chrono::seconds(10));

 private:
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace certsync::testing
