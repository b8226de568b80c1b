#include "util/cpu_budget.h"

#include <sched.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace certsync::util {
namespace {

// A whole non-negative decimal number, surrounding whitespace allowed.
std::optional<long long> whole_number(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty() || text.size() > 18) return std::nullopt;
  long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<double> ratio(std::optional<long long> quota, std::optional<long long> period) {
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

std::string read_small_file(const char* path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str().substr(0, 256);
}

size_t affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<size_t>(count);
  }
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

}  // namespace

std::optional<double> cgroup_v2_cpu_quota(std::string_view cpu_max) {
  const size_t space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  // "max" (unlimited) is not a number, so it gives nullopt like anything unreadable.
  return ratio(whole_number(cpu_max.substr(0, space)), whole_number(cpu_max.substr(space + 1)));
}

std::optional<double> cgroup_v1_cpu_quota(std::string_view quota_us, std::string_view period_us) {
  // -1 (unlimited) is not a whole number either.
  return ratio(whole_number(quota_us), whole_number(period_us));
}

size_t usable_cpus(size_t cores, std::optional<double> quota) {
  if (cores == 0) cores = 1;
  if (!quota) return cores;
  const double granted = std::ceil(*quota);
  if (granted < 1) return 1;
  return granted < static_cast<double>(cores) ? static_cast<size_t>(granted) : cores;
}

size_t process_usable_cpus() {
  std::optional<double> quota = cgroup_v2_cpu_quota(read_small_file("/sys/fs/cgroup/cpu.max"));
  if (!quota) {
    quota = cgroup_v1_cpu_quota(read_small_file("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
                                read_small_file("/sys/fs/cgroup/cpu/cpu.cfs_period_us"));
  }
  return usable_cpus(affinity_cores(), quota);
}

}  // namespace certsync::util
