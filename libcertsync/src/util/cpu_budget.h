// How many CPUs this process may really use: the cores it may run on
// (its affinity mask, what `taskset` and a cpuset limit) and the CPU time
// its cgroup grants (a Kubernetes CPU limit is a CFS quota). In a pod
// with `limits.cpu: 1` on a 64-core node std::thread::hardware_concurrency()
// says 64, and validating on many threads under a one-core quota only
// gets the watcher throttled for the rest of each period.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace certsync::util {

// The quota of a cgroup v2 `cpu.max` ("max 100000" or "150000 100000"),
// in CPUs; nullopt when unlimited or unreadable.
std::optional<double> cgroup_v2_cpu_quota(std::string_view cpu_max);

// The quota of cgroup v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us`
// (quota -1 means unlimited), in CPUs; nullopt when unlimited or unreadable.
std::optional<double> cgroup_v1_cpu_quota(std::string_view quota_us, std::string_view period_us);

// The whole CPUs a quota leaves (rounded up: 1.5 CPUs keep two threads
// busy part of the time) against the cores the process may run on; at least 1.
size_t usable_cpus(size_t cores, std::optional<double> quota);

// usable_cpus() for this process: its affinity mask and the quota of its
// own cgroup as mounted at /sys/fs/cgroup (v2, then v1).
size_t process_usable_cpus();

}  // namespace certsync::util
