#!/bin/sh
# What the benchmarks need beyond scripts/install-deps.sh: a C compiler and
# OpenSSL's headers for bench/tools/handshake_load.c, curl for the Secrets,
# and perf for profiling a worker (`perf record -e cpu-clock`).
set -e
apt-get update
apt-get install -y --no-install-recommends gcc libc6-dev libssl-dev curl linux-perf
