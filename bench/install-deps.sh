#!/usr/bin/env bash
# What the benchmarks need beyond scripts/install-deps.sh (Debian 12): a C
# compiler and OpenSSL's headers for bench/tools (the handshake load and the
# renewal probe), curl for the Secrets, wrk for the event-loop benchmark,
# and perf for profiling a worker (`perf record -e cpu-clock`). Only what is
# missing is installed.
set -euo pipefail
packages=(gcc libc6-dev libssl-dev curl wrk linux-perf)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
