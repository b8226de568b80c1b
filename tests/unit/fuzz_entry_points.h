// The bodies of the libFuzzer targets in fuzz/, shared with the unit tests:
// fuzz/*.cc call them from LLVMFuzzerTestOneInput, and
// fuzz_seed_regression_test.cc runs every committed seed through them, so the
// seed corpora are regression tests of the normal (gcc) test run.
//
// Each entry point runs one input and checks the invariants the code under
// test promises. It returns an empty string when they hold, otherwise what
// broke (the fuzz targets then abort, the tests fail).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace certsync::fuzz {

// Option bits, the first byte of a validate_bundle input.
inline constexpr uint8_t kCnFallback = 1;
inline constexpr uint8_t kReorderChain = 2;
inline constexpr uint8_t kVerifyChain = 4;
inline constexpr uint8_t kTemporaryAnnotation = 8;
inline constexpr uint8_t kNoClockSkew = 16;

// A validate_bundle input: the option byte, then tls.crt, tls.key, ca.crt and
// an SNI override list (comma-separated, as the server-names annotation),
// separated by NUL bytes.
// Without any NUL after the option byte, the rest is cut in two halves:
// tls.crt, then tls.key.
std::string encode_bundle_input(uint8_t flags, std::string_view cert, std::string_view key,
                                std::string_view ca = {}, std::string_view sni_list = {});

// validate_bundle() on the decoded input. Invariants: no exception, nothing
// left on the OpenSSL error queue; a refusal has a known code and a non-empty
// message of printable ASCII; an accepted bundle has SNIs, normalised PEM,
// and validates again, unchanged, from its own normalised PEM.
std::string run_validate_bundle(const uint8_t* data, size_t size);

// nlohmann::json::parse (no exceptions) then kube::decode_secret() and
// cleanse_secret_data(). Invariants: no exception; a decoded Secret has a
// name and a namespace, a digest when it holds tls.crt and tls.key, and
// validates to a known code; after cleansing, every data/stringData string
// holds only zero bytes.
std::string run_secret_json(const uint8_t* data, size_t size);

}  // namespace certsync::fuzz
