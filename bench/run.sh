#!/usr/bin/env bash
# make bench: every benchmark, one after the other (never side by side: each
# compares what it measures within its own run), then bench/results/latest.json.
# QUICK=1 (make bench QUICK=1) runs the few-minute version of each.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CERTSYNC_ROOT=$root CERTSYNC_BUILD_DIR=${CERTSYNC_BUILD_DIR:-$root/build}
bash scripts/install-deps.sh || exit 1
bash bench/install-deps.sh || exit 1
cmake -S . -B "$CERTSYNC_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
  cmake --build "$CERTSYNC_BUILD_DIR" -j"$(nproc)" --target certsync certsync_cdef kube-api-test-server >/dev/null || exit 1

quick=()
[ "${QUICK:-0}" = 1 ] && quick=(--quick)
failed=()
for bench in renewal_latency handshake_cost initial_sync event_loop non_tls_filter api_cost; do
  [ -f "bench/$bench.lua" ] || continue
  echo "== bench/$bench.lua ${quick[*]}"
  if ! luajit "bench/$bench.lua" "${quick[@]}"; then failed+=("$bench"); fi
done
luajit bench/merge_results.lua
if ((${#failed[@]})); then echo "benchmarks that failed: ${failed[*]}"; exit 1; fi
