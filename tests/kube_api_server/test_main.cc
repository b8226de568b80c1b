// Catch2's main() for the kube-api-test-server tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
