#!/usr/bin/env bash
# The certsync demo: a Secret renewed in a (test) Kubernetes API server is
# served by a running nginx without reload. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${CERTSYNC_BUILD_DIR:-$root/build}
bash scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
CERTSYNC_ROOT=$root CERTSYNC_BUILD_DIR=$build \
  LUA_PATH="$root/?.lua;$root/kong-plugin/?.lua;$build/lua/?.lua;;" luajit scripts/demo.lua
