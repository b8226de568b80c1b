#!/usr/bin/env bash
# The nginx end-to-end specs with libcertsync built with AddressSanitizer +
# UndefinedBehaviorSanitizer, loaded by real nginx workers.
#
# nginx itself is not instrumented, so the ASan runtime must be the first
# library of every process that loads the sanitized libcertsync.so: the
# specs start nginx (spec/support/nginx.lua) and the two-VM harness with it
# preloaded (CERTSYNC_LIB_PRELOAD), and nothing else (preloaded into the
# clients the specs run, it deadlocked curl). Leak checking stays off: nginx's master
# and workers exit without freeing what they allocated at start; the
# library's own leaks are judged by the Catch2 suites under LeakSanitizer and
# by `make valgrind`. The soak's RSS bound is off too (CERTSYNC_SANITIZED=1):
# ASan's quarantine holds freed memory, so RSS says nothing about the library.
# Every sanitizer report goes to a file under $ASAN_REPORTS; any such file, or
# any failing spec, fails the run.
#
#   scripts/e2e-asan.sh [spec files or directories...]   (default: spec/e2e)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${CERTSYNC_BUILD_DIR:-$root/build}
asan_build=${CERTSYNC_ASAN_BUILD_DIR:-$root/build-asan}
reports=${ASAN_REPORTS:-$asan_build/e2e-reports}
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(spec/e2e)

# The normal build provides the API test server, the CLI and the generated
# Lua cdefs; only the library the workers load is the sanitized one.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
  cmake --build "$build" -j"$(nproc)" >/dev/null || { echo "the normal build failed"; exit 1; }
cmake -S . -B "$asan_build" -DCMAKE_BUILD_TYPE=Debug "-DCERTSYNC_SANITIZE=address;undefined" >/dev/null &&
  cmake --build "$asan_build" -j"$(nproc)" --target certsync >/dev/null || { echo "the ASan build failed"; exit 1; }

library=$asan_build/libcertsync/libcertsync.so
runtime=$(gcc -print-file-name=libasan.so)
nm -D "$library" | grep __asan_init >/dev/null || { echo "$library is not built with ASan"; exit 1; }

rm -rf "$reports" && mkdir -p "$reports"
echo "== e2e specs with $library (ASan+UBSan), reports in $reports"
CERTSYNC_ROOT=$root CERTSYNC_BUILD_DIR=$build CERTSYNC_LIB=$library \
  CERTSYNC_LIB_PRELOAD=$runtime CERTSYNC_SANITIZED=1 \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:log_path=$reports/asan" \
  UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan" \
  luajit /usr/bin/busted --lpath="$root/?.lua;$root/kong-plugin/?.lua;$build/lua/?.lua" \
  -o utfTerminal "${specs[@]}" 2>&1 | tee "$reports/busted.log"
specs_rc=${PIPESTATUS[0]}

status=0
[ "$specs_rc" = 0 ] || { echo "FAILED: the specs (busted exit $specs_rc)"; status=1; }
found=$(find "$reports" -name 'asan.*' -o -name 'ubsan.*' | sort)
if [ -n "$found" ]; then
  echo "FAILED: sanitizer reports:"
  for f in $found; do echo "--- $f"; head -40 "$f"; done
  status=1
else
  echo "no sanitizer report"
fi
exit $status
