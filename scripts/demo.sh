#!/usr/bin/env bash
# The certsync demo: a Secret renewed in a (test) Kubernetes API server is
# served by a running nginx without reload. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${CERTSYNC_BUILD_DIR:-$root/build}
bash scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only what the demo runs: the library nginx loads, its generated FFI cdef,
# and the API test server. The test suites, most of the build, are left to
# scripts/test.sh: a first demo on a fresh machine waits for a fraction of
# the compile time.
cmake --build "$build" -j"$(nproc)" \
  --target certsync certsync_cdef kube-api-test-server >/dev/null
CERTSYNC_ROOT=$root CERTSYNC_BUILD_DIR=$build \
  LUA_PATH="$root/?.lua;$root/kong-plugin/?.lua;$build/lua/?.lua;;" luajit scripts/demo.lua
