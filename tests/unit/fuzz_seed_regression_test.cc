// The fuzzers' seed corpora (fuzz/corpus/<target>/) as regression tests: every
// committed seed goes through the same entry point as in the fuzz target, so
// an input that once crashed a fuzzer keeps being tried by the normal test
// run, without clang. Also checks that no committed seed holds a private key.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_entry_points.h"
#include "tls/ossl_ptr.h"
#include "tls_bad_corpus.h"
#include "util/base64.h"

namespace {

namespace fs = std::filesystem;

fs::path corpus_root() { return fs::path(__FILE__).parent_path() / "../../fuzz/corpus"; }

struct Seed {
  std::string name;
  std::string bytes;
};

std::vector<Seed> read_seeds(const std::string& target) {
  std::vector<Seed> seeds;
  const fs::path dir = corpus_root() / target;
  REQUIRE(fs::is_directory(dir));
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    seeds.push_back(Seed{entry.path().filename().string(),
                         std::string(std::istreambuf_iterator<char>(in), {})});
  }
  return seeds;
}

// Base64 characters of a block body, header lines ("Name: value") and
// everything else skipped, decoded.
std::string lenient_base64(std::string_view body) {
  std::string clean;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(start, end - start);
    if (line.find(':') == std::string_view::npos) {
      for (char c : line) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/') clean += c;
      }
    }
    start = end + 1;
  }
  clean.resize(clean.size() - clean.size() % 4);
  std::string out(clean.size() / 4 * 3 + 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(clean.data()),
                                     static_cast<int>(clean.size()));
  out.resize(length > 0 ? static_cast<size_t>(length) : 0);
  return out;
}

bool decodes_as_private_key(const std::string& der) {
  // EVP_DecodeBlock pads with zero bytes; try every trimmed length near the end.
  for (size_t trim = 0; trim <= 2 && trim <= der.size(); ++trim) {
    const auto* data = reinterpret_cast<const unsigned char*>(der.data());
    const long length = static_cast<long>(der.size() - trim);
    const unsigned char* cursor = data;
    certsync::tls::ossl::PkeyPtr key(d2i_AutoPrivateKey(nullptr, &cursor, length));
    if (key) return true;
    cursor = data;
    certsync::tls::ossl::P8InfoPtr info(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &cursor, length));
    if (info) return true;
    cursor = data;
    X509_SIG* encrypted = d2i_X509_SIG(nullptr, &cursor, length);
    if (encrypted != nullptr) {
      X509_SIG_free(encrypted);
      return true;
    }
  }
  return false;
}

// Every PEM block labelled "... PRIVATE KEY" in the text: its body must be too
// short to be a key and must not decode as one. Returns what was found.
std::string private_key_problem(std::string_view text) {
  for (size_t at = text.find("-----BEGIN "); at != std::string_view::npos;
       at = text.find("-----BEGIN ", at + 1)) {
    const size_t label_end = text.find("-----", at + 11);
    if (label_end == std::string_view::npos) break;
    const std::string_view label = text.substr(at + 11, label_end - at - 11);
    if (label.find("PRIVATE KEY") == std::string_view::npos) continue;
    const size_t end = text.find("-----END", label_end + 5);
    const std::string_view body = text.substr(
        label_end + 5, (end == std::string_view::npos ? text.size() : end) - label_end - 5);
    std::string decoded = lenient_base64(body);
    if (decoded.size() >= 45) {
      return "a " + std::string(label) + " block of " + std::to_string(decoded.size()) + " bytes";
    }
    if (decodes_as_private_key(decoded)) return "a " + std::string(label) + " block that decodes";
  }
  return {};
}

// The same, for each base64 string value of a JSON document (Secret data).
std::string private_key_problem_in_json(const nlohmann::json& value) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (auto decoded = certsync::base64_decode(text)) {
      if (std::string problem = private_key_problem(*decoded); !problem.empty()) return problem;
    }
    return private_key_problem(text);
  }
  if (value.is_structured()) {
    for (const auto& item : value) {
      if (std::string problem = private_key_problem_in_json(item); !problem.empty()) return problem;
    }
  }
  return {};
}

}  // namespace

TEST_CASE("Every validate_bundle fuzz seed runs clean through the fuzz entry point",
          "[tls][fuzz]") {
  const std::vector<Seed> seeds = read_seeds("fuzz_validate_bundle");
  CHECK(seeds.size() >= 20);
  for (const Seed& seed : seeds) {
    INFO("seed " << seed.name);
    CHECK(certsync::fuzz::run_validate_bundle(reinterpret_cast<const uint8_t*>(seed.bytes.data()),
                                              seed.bytes.size()) == "");
  }
}

TEST_CASE("Every Secret JSON fuzz seed runs clean through the fuzz entry point", "[tls][fuzz]") {
  const std::vector<Seed> seeds = read_seeds("fuzz_secret_json");
  CHECK(seeds.size() >= 10);
  for (const Seed& seed : seeds) {
    INFO("seed " << seed.name);
    CHECK(certsync::fuzz::run_secret_json(reinterpret_cast<const uint8_t*>(seed.bytes.data()),
                                          seed.bytes.size()) == "");
  }
}

TEST_CASE("No committed fuzz seed holds a private key", "[tls][fuzz]") {
  for (const char* target : {"fuzz_validate_bundle", "fuzz_secret_json"}) {
    for (const Seed& seed : read_seeds(target)) {
      INFO("seed " << target << "/" << seed.name);
      CHECK(private_key_problem(seed.bytes) == "");
      nlohmann::json parsed = nlohmann::json::parse(seed.bytes, nullptr, false);
      if (!parsed.is_discarded()) CHECK(private_key_problem_in_json(parsed) == "");
    }
  }
}

TEST_CASE("The bad-input corpus with real keys runs clean through the fuzz entry point",
          "[tls][fuzz]") {
  // What `make fuzz` adds as run-time seeds: every corpus case, keys included.
  for (const auto& entry : certsync::testing::build_bad_corpus()) {
    INFO("case " << entry.name);
    uint8_t flags = 0;
    if (entry.cn_fallback) flags |= certsync::fuzz::kCnFallback;
    if (entry.reorder_chain) flags |= certsync::fuzz::kReorderChain;
    if (entry.verify_chain) flags |= certsync::fuzz::kVerifyChain;
    if (entry.temporary_annotation) flags |= certsync::fuzz::kTemporaryAnnotation;
    std::string sni_list;
    for (const std::string& name : entry.sni_override) sni_list += name + ",";
    const std::string input = certsync::fuzz::encode_bundle_input(
        flags, entry.cert_pem, entry.key_pem, entry.ca_pem, sni_list);
    CHECK(certsync::fuzz::run_validate_bundle(reinterpret_cast<const uint8_t*>(input.data()),
                                              input.size()) == "");
  }
}

TEST_CASE("The private-key detector of the seed check finds real keys", "[tls][fuzz]") {
  // The check above is only worth something if it would notice a key.
  for (const auto& entry : certsync::testing::build_bad_corpus()) {
    if (entry.name != "rsa_exactly_2048" && entry.name != "key_ed25519" &&
        entry.name != "key_encrypted_pkcs8" && entry.name != "key_bad_base64") {
      continue;
    }
    INFO("case " << entry.name);
    CHECK(private_key_problem(entry.key_pem) != "");
    const nlohmann::json secret = {{"data", {{"tls.key", entry.key_pem}}}};
    CHECK(private_key_problem_in_json(secret) != "");
  }
}
