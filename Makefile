# The verbs people type. The build is CMake's; this file only forwards.
BUILD_DIR ?= build

.PHONY: all test demo deps clean

all:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j$$(nproc)

deps:
	scripts/install-deps.sh

test:
	CERTSYNC_BUILD_DIR=$(abspath $(BUILD_DIR)) scripts/test.sh

demo:
	CERTSYNC_BUILD_DIR=$(abspath $(BUILD_DIR)) scripts/demo.sh

clean:
	rm -rf $(BUILD_DIR)
