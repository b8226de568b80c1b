// fuzz_seed_gen: writes seed inputs for the two fuzz targets from the
// bad-input corpus (tests/unit/tls_bad_corpus.cc).
//
//   fuzz_seed_gen --committed VALIDATE_DIR JSON_DIR
//       Seeds safe to commit: every private-key block is replaced by a short,
//       broken one of the same label (structure kept, key material gone).
//       This is how fuzz/corpus/ was made.
//   fuzz_seed_gen --runtime VALIDATE_DIR JSON_DIR
//       The same cases with their real, freshly generated keys, so the
//       fuzzer starts from bundles that pass. `make fuzz` writes them into
//       the build directory before each run; they are never committed.
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_entry_points.h"
#include "tls_bad_corpus.h"

namespace {

namespace fs = std::filesystem;
using certsync::testing::CorpusCase;

// Larger cases (the 1 MiB one) make poor seeds.
constexpr size_t kMaxSeedBytes = 32 * 1024;

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string fake_body(const std::string& label) {
  if (label == "PRIVATE KEY") return "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg";
  if (label == "RSA PRIVATE KEY") return "MIIEowIBAAKCAQEA";
  if (label == "EC PRIVATE KEY") return "MHcCAQEEIA==";
  if (label == "ENCRYPTED PRIVATE KEY") return "MIIFHDBOBgkqhkiG9w0BBQ0w";
  return "AAAA";
}

// Replaces every "... PRIVATE KEY" PEM block by a broken one of the same label;
// an unterminated one is cut off with the rest of the text.
std::string strip_private_keys(const std::string& text) {
  std::string out;
  size_t from = 0;
  for (;;) {
    const size_t begin = text.find("-----BEGIN ", from);
    if (begin == std::string::npos) break;
    const size_t label_end = text.find("-----", begin + 11);
    if (label_end == std::string::npos) break;
    const std::string label = text.substr(begin + 11, label_end - begin - 11);
    if (label.find("PRIVATE KEY") == std::string::npos) {
      out += text.substr(from, label_end + 5 - from);
      from = label_end + 5;
      continue;
    }
    out += text.substr(from, begin - from);
    const std::string end_line = "-----END " + label + "-----";
    const size_t end = text.find(end_line, label_end);
    if (end == std::string::npos) return out;  // nothing after an unterminated key
    // RFC 1421 headers (Proc-Type, DEK-Info) are no key material: keep them.
    std::string headers;
    size_t line = text.find('\n', label_end);
    while (line != std::string::npos && line < end) {
      const size_t next = text.find('\n', line + 1);
      const std::string content = text.substr(line + 1, next - line - 1);
      if (content.find(':') == std::string::npos) break;
      headers += content + "\n";
      line = next;
    }
    if (!headers.empty()) headers += "\n";
    out += "-----BEGIN " + label + "-----\n" + headers + fake_body(label) + "\n" + end_line;
    from = end + end_line.size();
  }
  return out + text.substr(from);
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

nlohmann::json secret_json(const std::string& name, const std::string& cert, const std::string& key,
                           const std::string& type) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata",
           {{"name", name},
            {"namespace", "default"},
            {"uid", "00000000-0000-4000-8000-000000000001"},
            {"resourceVersion", "4242"},
            {"annotations", {{"cert-manager.io/certificate-name", name}}}}},
          {"type", type},
          {"data", {{"tls.crt", base64(cert)}, {"tls.key", base64(key)}}}};
}

uint8_t flags_of(const CorpusCase& entry) {
  uint8_t flags = 0;
  if (entry.cn_fallback) flags |= certsync::fuzz::kCnFallback;
  if (entry.reorder_chain) flags |= certsync::fuzz::kReorderChain;
  if (entry.verify_chain) flags |= certsync::fuzz::kVerifyChain;
  if (entry.temporary_annotation) flags |= certsync::fuzz::kTemporaryAnnotation;
  return flags;
}

// Secret documents of odd shapes, written by hand.
std::vector<std::pair<std::string, std::string>> structural_json_seeds(const std::string& cert,
                                                                       const std::string& key) {
  const std::string crt64 = base64(cert);
  const std::string key64 = base64(key);
  auto with_data = [&](const std::string& data) {
    return R"({"kind":"Secret","metadata":{"name":"s","namespace":"n"},"data":)" + data + "}";
  };
  std::string nested;
  for (int i = 0; i < 200; ++i) nested += "[";
  for (int i = 0; i < 200; ++i) nested += "]";
  return {
      {"not_an_object_array", "[1,2,3]"},
      {"not_an_object_string", "\"Secret\""},
      {"null", "null"},
      {"no_metadata", R"({"kind":"Secret","data":{}})"},
      {"metadata_not_object", R"({"metadata":"default/s"})"},
      {"name_empty", R"({"metadata":{"name":"","namespace":"n"}})"},
      {"namespace_missing", R"({"metadata":{"name":"s"}})"},
      {"name_not_string", R"({"metadata":{"name":7,"namespace":"n"}})"},
      {"no_data", R"({"metadata":{"name":"s","namespace":"n"},"type":"Opaque"})"},
      {"data_not_object", with_data("[]")},
      {"only_tls_crt", with_data(R"({"tls.crt":")" + crt64 + "\"}")},
      {"tls_crt_number", with_data(R"({"tls.crt":12,"tls.key":")" + key64 + "\"}")},
      {"tls_key_null", with_data(R"({"tls.crt":")" + crt64 + R"(","tls.key":null})")},
      {"tls_key_bad_base64", with_data(R"({"tls.crt":")" + crt64 + R"(","tls.key":"!!!="})")},
      {"tls_crt_bad_padding", with_data(R"({"tls.crt":"QQ=","tls.key":")" + key64 + "\"}")},
      {"empty_values", with_data(R"({"tls.crt":"","tls.key":""})")},
      {"extra_keys", with_data(R"({"tls.crt":")" + crt64 + R"(","tls.key":")" + key64 +
                               R"(","ca.crt":")" + crt64 + R"(","tls-combined.pem":"QUJD"})")},
      {"string_data",
       R"({"metadata":{"name":"s","namespace":"n"},"stringData":{"tls.crt":"x","tls.key":"y"},"data":{"a":"QQ=="}})"},
      {"watch_event",
       R"({"type":"MODIFIED","object":)" +
           with_data(R"({"tls.crt":")" + crt64 + R"(","tls.key":")" + key64 + "\"}") + "}"},
      {"unicode_names",
       R"({"metadata":{"name":"s\u00e9\ud83d\ude00","namespace":"n\u0000s","uid":"\u202e"},"data":{}})"},
      {"duplicate_keys", R"({"metadata":{"name":"a","name":"b","namespace":"n"},"data":{}})"},
      {"big_numbers",
       R"({"metadata":{"name":"s","namespace":"n","resourceVersion":1e400},"data":{}})"},
      {"deep_nesting", R"({"metadata":{"name":"s","namespace":"n"},"x":)" + nested + "}"},
      {"annotations",
       R"({"metadata":{"name":"s","namespace":"n","annotations":{"certsync.io/server-names":"www.example.com, api.example.com","cert-manager.io/issue-temporary-certificate":"true"}},"data":{"tls.crt":")" +
           crt64 + R"(","tls.key":")" + key64 + R"(","ca.crt":")" + crt64 + "\"}}"},
      {"annotations_not_strings",
       R"({"metadata":{"name":"s","namespace":"n","annotations":{"certsync.io/server-names":["a"],"cert-manager.io/issue-temporary-certificate":true}},"data":{"tls.crt":")" +
           crt64 + R"(","tls.key":")" + key64 + R"(","ca.crt":7}})"},
  };
}

int generate(bool committed, const fs::path& validate_dir, const fs::path& json_dir) {
  fs::create_directories(validate_dir);
  fs::create_directories(json_dir);
  const std::string prefix = committed ? "" : "rt_";
  int written = 0;
  std::string sample_cert;
  std::string sample_key;
  for (const CorpusCase& entry : certsync::testing::build_bad_corpus()) {
    const std::string cert = committed ? strip_private_keys(entry.cert_pem) : entry.cert_pem;
    const std::string key = committed ? strip_private_keys(entry.key_pem) : entry.key_pem;
    const std::string ca = committed ? strip_private_keys(entry.ca_pem) : entry.ca_pem;
    std::string sni_list;
    for (const std::string& name : entry.sni_override) sni_list += name + ",";
    const std::string input =
        certsync::fuzz::encode_bundle_input(flags_of(entry), cert, key, ca, sni_list);
    if (input.size() > kMaxSeedBytes) continue;
    write_file(validate_dir / (prefix + entry.name), input);
    ++written;
    if (entry.name == "crlf_and_text_around_blocks") {
      // The same bundle once more in the "two halves" layout (no NUL).
      write_file(validate_dir / (prefix + "halves_" + entry.name),
                 std::string(1, '\0') + cert + key);
      ++written;
    }
    if (!entry.uses_options() &&
        (entry.expected_code == certsync::testing::kAccepted || entry.name.rfind("key_", 0) == 0)) {
      const nlohmann::json secret =
          secret_json(entry.name, cert, key, written % 2 == 0 ? "kubernetes.io/tls" : "Opaque");
      write_file(json_dir / (prefix + entry.name + ".json"), secret.dump());
      ++written;
    }
    if (entry.name == "full_chain_with_root") {
      sample_cert = cert;
      sample_key = key;
    }
  }
  for (const auto& [name, text] : structural_json_seeds(sample_cert, sample_key)) {
    write_file(json_dir / (prefix + name + ".json"), text);
    ++written;
  }
  std::cout << "wrote " << written << " seeds\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (std::string(argv[1]) != "--committed" && std::string(argv[1]) != "--runtime")) {
    std::cerr << "usage: fuzz_seed_gen --committed|--runtime VALIDATE_DIR JSON_DIR\n";
    return 2;
  }
  try {
    return generate(std::string(argv[1]) == "--committed", argv[2], argv[3]);
  } catch (const std::exception& error) {
    std::cerr << "fuzz_seed_gen: " << error.what() << "\n";
    return 1;
  }
}
