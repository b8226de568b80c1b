#include "util/cpu_budget.h"

#include <catch2/catch.hpp>

using certsync::util::cgroup_v1_cpu_quota;
using certsync::util::cgroup_v2_cpu_quota;
using certsync::util::usable_cpus;

TEST_CASE("cgroup v2 cpu.max gives the quota in CPUs", "[cpu_budget]") {
  CHECK(cgroup_v2_cpu_quota("max 100000\n") == std::nullopt);
  CHECK(cgroup_v2_cpu_quota("150000 100000\n").value() == Approx(1.5));
  CHECK(cgroup_v2_cpu_quota("50000 100000").value() == Approx(0.5));
  CHECK(cgroup_v2_cpu_quota("") == std::nullopt);
  CHECK(cgroup_v2_cpu_quota("100000") == std::nullopt);
  CHECK(cgroup_v2_cpu_quota("-1 100000") == std::nullopt);
  CHECK(cgroup_v2_cpu_quota("100000 0") == std::nullopt);
}

TEST_CASE("cgroup v1 cfs quota and period give the quota in CPUs", "[cpu_budget]") {
  CHECK(cgroup_v1_cpu_quota("-1\n", "100000\n") == std::nullopt);
  CHECK(cgroup_v1_cpu_quota("200000\n", "100000\n").value() == Approx(2.0));
  CHECK(cgroup_v1_cpu_quota("", "") == std::nullopt);
  CHECK(cgroup_v1_cpu_quota("abc", "100000") == std::nullopt);
}

TEST_CASE("usable CPUs: the quota rounded up, never above the cores, never below 1", "[cpu_budget]") {
  CHECK(usable_cpus(64, 1.0) == 1);
  CHECK(usable_cpus(64, 1.5) == 2);
  CHECK(usable_cpus(2, 8.0) == 2);
  CHECK(usable_cpus(8, std::nullopt) == 8);
  CHECK(usable_cpus(8, 0.1) == 1);
  CHECK(usable_cpus(0, std::nullopt) == 1);
}

TEST_CASE("this process may use at least one CPU and no more than it has", "[cpu_budget]") {
  const size_t cpus = certsync::util::process_usable_cpus();
  CHECK(cpus >= 1);
  CHECK(cpus <= 4096);
}
