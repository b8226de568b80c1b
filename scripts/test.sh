#!/usr/bin/env bash
# Runs every certsync test suite: builds, then the Catch2 tests (through
# CTest), then the busted specs (unit and end-to-end with a real nginx).
# Installs missing Debian packages first. Ends with one line "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${CERTSYNC_BUILD_DIR:-$root/build}

bash scripts/install-deps.sh || exit 1
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
cmake --build "$build" -j"$(nproc)" 2>&1 | grep -E "error|warning|Error" ; build_rc=${PIPESTATUS[0]}
[ "$build_rc" = 0 ] || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0
logs=$(mktemp -d)

echo "== Catch2 tests and integration tests (ctest)"
(cd "$build" && ctest --output-on-failure -j2) 2>&1 | tee "$logs/ctest.log"
line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$logs/ctest.log" | tail -1)
if [ -n "$line" ]; then
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - bad)); failed=$((failed + bad))
else
  failed=$((failed + 1))
fi

echo "== busted specs"
export CERTSYNC_ROOT=$root CERTSYNC_BUILD_DIR=$build
# busted under LuaJIT: the plugin and the specs use its FFI.
luajit /usr/bin/busted --lpath="$root/?.lua;$root/kong-plugin/?.lua;$build/lua/?.lua" \
  -o utfTerminal spec 2>&1 | tee "$logs/busted.log"
line=$(grep -aE "[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors?" "$logs/busted.log" | tail -1)
if [ -n "$line" ]; then
  ok=$(sed -E 's/^[^0-9]*([0-9]+) success.*/\1/' <<<"$line")
  bad=$(sed -E 's/.* ([0-9]+) failures? \/ ([0-9]+) errors?.*/\1+\2/' <<<"$line")
  passed=$((passed + ok)); failed=$((failed + bad))
else
  failed=$((failed + 1))
fi

rm -rf "$logs"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
