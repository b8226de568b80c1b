# The verbs people type. The build is CMake's; this file only forwards.
BUILD_DIR ?= build

.PHONY: all test demo deps clean bench soak valgrind e2e-asan

all:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j$$(nproc)

deps:
	scripts/install-deps.sh

test:
	CERTSYNC_BUILD_DIR=$(abspath $(BUILD_DIR)) scripts/test.sh

demo:
	CERTSYNC_BUILD_DIR=$(abspath $(BUILD_DIR)) scripts/demo.sh

# Benchmarks (not part of `make test`): tables on stdout, figures in
# bench/results/latest.json. QUICK=1 for the few-minute version.
bench:
	CERTSYNC_BUILD_DIR=$(abspath $(BUILD_DIR)) QUICK=$(QUICK) bench/run.sh

# The soak (tests/soak/README.md), run by hand: SOAK=long (default) is 1,000
# rotations with 5 reloads, 5 SIGKILLs and 5 scope changes; SOAK=short is what
# the test command runs (spec/e2e/soak_spec.lua). SOAK_HOST=kong-3.x (default),
# kong-2.8 or nginx. The report goes to tests/soak/results/<mode>-<date>.json/.txt.
SOAK ?= long
SOAK_HOST ?= kong-3.x

soak:
	CERTSYNC_ROOT=$(CURDIR) CERTSYNC_BUILD_DIR=$(abspath $(BUILD_DIR)) SOAK=$(SOAK) SOAK_HOST=$(SOAK_HOST) \
	  luajit -e 'package.path = "$(CURDIR)/?.lua;$(CURDIR)/kong-plugin/?.lua;$(abspath $(BUILD_DIR))/lua/?.lua;" .. package.path' \
	  tests/soak/run.lua

clean:
	rm -rf $(BUILD_DIR)

# valgrind memcheck over the library's unit tests: any definite or indirect
# leak, invalid read or write, or use of uninitialised memory fails it.
valgrind: all
	valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
	  --errors-for-leak-kinds=definite,indirect --track-origins=yes --error-exitcode=9 \
	  $(BUILD_DIR)/tests/certsync_unit_tests

# The nginx e2e specs with the library built with ASan + UBSan and preloaded
# into nginx (see the script). SPECS= to run only some.
e2e-asan:
	CERTSYNC_BUILD_DIR=$(abspath $(BUILD_DIR)) scripts/e2e-asan.sh $(SPECS)

# ---------------------------------------------------------------------------
# Fuzzing: libFuzzer targets in fuzz/, built with clang-14 in their own build
# directory (ASan + UBSan). Each target runs FUZZ_SECONDS on its committed
# seeds (fuzz/corpus/TARGET) plus run-time seeds with real keys; new inputs go
# to FUZZ_BUILD_DIR/corpus/TARGET, crashes to FUZZ_BUILD_DIR/artifacts/TARGET/.
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 16384
FUZZ_TARGETS := fuzz_validate_bundle fuzz_secret_json

.PHONY: fuzz fuzz-build

fuzz-build:
	CC=clang-14 CXX=clang++-14 cmake -S fuzz -B $(FUZZ_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_BUILD_DIR) -j$$(nproc)

fuzz: fuzz-build
	$(FUZZ_BUILD_DIR)/fuzz_seed_gen --runtime $(FUZZ_BUILD_DIR)/corpus/fuzz_validate_bundle $(FUZZ_BUILD_DIR)/corpus/fuzz_secret_json
	@set -e; for target in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD_DIR)/corpus/$$target $(FUZZ_BUILD_DIR)/artifacts/$$target; \
	  echo "== $$target for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD_DIR)/$$target -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
	    -dict=fuzz/pem.dict -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD_DIR)/artifacts/$$target/ \
	    $(FUZZ_BUILD_DIR)/corpus/$$target fuzz/corpus/$$target; \
	done
