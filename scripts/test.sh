#!/usr/bin/env bash
# Runs every certsync test suite:
#   1. the normal build: Catch2 unit and integration tests and the API test
#      server's kubectl smoke test (CTest), then the busted specs (unit, and
#      end-to-end with a real nginx);
#      then `luarocks make` of the rockspec into a fresh tree, the renewal
#      and Kong handler e2e once more against what the rock installed, and
#      the CLI it installed;
#   2. the C++ unit and integration tests again under AddressSanitizer +
#      UndefinedBehaviorSanitizer, and under ThreadSanitizer
#      (CERTSYNC_SANITIZERS=0 skips these two builds).
# Installs missing Debian packages first. Ends with one line "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${CERTSYNC_BUILD_DIR:-$root/build}
jobs=$(nproc)

bash scripts/install-deps.sh || exit 1

passed=0 failed=0
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

count_failure() { failed=$((failed + 1)); echo "FAILED: $*"; }

# build DIR [cmake args...] [-- targets...]
build_tree() {
  local dir=$1; shift
  local args=() targets=()
  while (($#)); do [ "$1" = -- ] && { shift; targets=("$@"); break; }; args+=("$1"); shift; done
  cmake -S . -B "$dir" "${args[@]}" >"$logs/cmake.log" 2>&1 || { cat "$logs/cmake.log"; return 1; }
  local target_args=()
  for t in "${targets[@]}"; do target_args+=(--target "$t"); done
  cmake --build "$dir" -j"$jobs" "${target_args[@]}" >"$logs/build.log" 2>&1 || { grep -E "error|Error" "$logs/build.log" | head -40; return 1; }
}

# Counts a Catch2 binary's result from its last line.
run_catch() {
  local label=$1; shift
  echo "== $label"
  "$@" 2>&1 | tee "$logs/catch.log" | tail -3
  local line
  line=$(grep -aE "^All tests passed|^test cases:" "$logs/catch.log" | tail -1)
  if [[ $line =~ ^All\ tests\ passed.*in\ ([0-9]+)\ test\ case ]]; then
    passed=$((passed + BASH_REMATCH[1]))
  elif [[ $line =~ test\ cases:\ +([0-9]+)\ \|\ +([0-9]+)\ passed\ \|\ +([0-9]+)\ failed ]]; then
    passed=$((passed + BASH_REMATCH[2])); failed=$((failed + BASH_REMATCH[3]))
  else
    count_failure "$label did not report"
  fi
  # A sanitizer report fails the suite even when every assertion held.
  if grep -aqE "^(==[0-9]+==ERROR|WARNING: ThreadSanitizer|SUMMARY: (Address|UndefinedBehavior|Thread)Sanitizer)|runtime error:" "$logs/catch.log"; then
    count_failure "$label: sanitizer report"
  fi
}

echo "== build"
if build_tree "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
  echo "== Catch2 tests and integration tests (ctest)"
  (cd "$build" && ctest --output-on-failure -j2) 2>&1 | tee "$logs/ctest.log" | grep -vE "^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed"
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$logs/ctest.log" | tail -1)
  if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[1]))
  else
    count_failure "ctest did not report"
  fi

  echo "== busted specs"
  export CERTSYNC_ROOT=$root CERTSYNC_BUILD_DIR=$build
  # busted under LuaJIT: the plugin and the specs use its FFI.
  luajit /usr/bin/busted --lpath="$root/?.lua;$root/kong-plugin/?.lua;$build/lua/?.lua" \
    -o utfTerminal spec 2>&1 | tee "$logs/busted.log"
  line=$(grep -aE "[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors?" "$logs/busted.log" | tail -1)
  if [[ $line =~ ([0-9]+)\ successes?\ /\ ([0-9]+)\ failures?\ /\ ([0-9]+)\ errors? ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2] + BASH_REMATCH[3]))
  else
    count_failure "busted did not report"
  fi

  echo "== the rock: luarocks make into a fresh tree, then the renewal and Kong handler e2e against what it installed"
  tree="$logs/rock-tree"
  if (cd "$root" && luarocks --lua-version=5.1 make --tree "$tree" kong-plugin-certsync-*.rockspec) >"$logs/rock.log" 2>&1; then
    CERTSYNC_INSTALLED_TREE=$tree luajit /usr/bin/busted --lpath="$root/?.lua" \
      -o utfTerminal spec/e2e/renewal_spec.lua spec/e2e/kong_handler_spec.lua 2>&1 | tee "$logs/busted-rock.log"
    line=$(grep -aE "[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors?" "$logs/busted-rock.log" | tail -1)
    if [[ $line =~ ([0-9]+)\ successes?\ /\ ([0-9]+)\ failures?\ /\ ([0-9]+)\ errors? ]]; then
      passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2] + BASH_REMATCH[3]))
    else
      count_failure "busted (installed rock) did not report"
    fi
    # The rock installs the CLI too: it must run from the tree's bin/ and
    # answer a usage error with its documented exit code 2.
    "$tree/bin/certsync" check --no-such-flag >/dev/null 2>&1
    if [ $? = 2 ]; then passed=$((passed + 1)); else count_failure "the rock's bin/certsync"; fi
  else
    tail -20 "$logs/rock.log"
    count_failure "luarocks make"
  fi
else
  count_failure "the build"
fi

if [ "${CERTSYNC_SANITIZERS:-1}" != 0 ]; then
  cpp_tests=(certsync_unit_tests certsync_integration_tests)
  # Under the sanitizers: not [heap] (it reads malloc's figures, which the
  # sanitizers' allocators replace), not [dns] (a 60 s wait on curl's DNS
  # cache, no new code path), and the fault matrix's outage at 5 s, not 60.
  sanitized_cases=("~[heap]~[dns]")
  echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer"
  if build_tree "$build-asan" -DCMAKE_BUILD_TYPE=Debug "-DCERTSYNC_SANITIZE=address;undefined" -- "${cpp_tests[@]}"; then
    for t in "${cpp_tests[@]}"; do
      ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 CERTSYNC_FAULT_OUTAGE_SECONDS=5 \
        run_catch "$t (ASan+UBSan)" "$build-asan/tests/$t" "${sanitized_cases[@]}"
    done
  else
    count_failure "the ASan build"
  fi
  echo "== build with ThreadSanitizer"
  if build_tree "$build-tsan" -DCMAKE_BUILD_TYPE=Debug -DCERTSYNC_SANITIZE=thread -- "${cpp_tests[@]}"; then
    for t in "${cpp_tests[@]}"; do
      TSAN_OPTIONS="suppressions=$root/tests/kube_api_server/tsan.supp" CERTSYNC_FAULT_OUTAGE_SECONDS=5 \
        run_catch "$t (TSan)" "$build-tsan/tests/$t" "${sanitized_cases[@]}"
    done
  else
    count_failure "the TSan build"
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
