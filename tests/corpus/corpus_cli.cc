// certsync-corpus: writes the bad-input corpus as files, for tests outside
// C++ (the e2e specs push every case through a real watcher and check that
// the last good certificate keeps serving).
//
//   certsync-corpus [--default-options-only] [--check] DIR
//
// For each case NAME it writes into DIR (created if needed):
//   NAME.crt       tls.crt
//   NAME.key       tls.key, mode 0600 (generated now; keys are never committed)
//   NAME.expected  one line: the reason code, or "accepted" and the flags the
//                  bundle must carry, space-separated ("accepted expired")
//   NAME.ca.crt    ca.crt, only for cases that have one
//   NAME.options   only for cases that need options, one "name=value" a line:
//                  sni_override=a.example.com,b.example.com, cn_fallback=true,
//                  verify_chain=true, reorder_chain=true,
//                  temporary_certificate_annotation=true
// and index.txt, the case names in order, one a line.
//
// --default-options-only  skips the cases that need options or ca.crt
// --check                 also validates every case and exits 1 on a mismatch
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <variant>
#include <vector>

#include "tls/validate.h"
#include "tls_bad_corpus.h"

namespace {

namespace fs = std::filesystem;
using certsync::testing::CorpusCase;

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string expected_line(const CorpusCase& entry) {
  std::string line = entry.expected_code;
  for (const std::string& flag : entry.expected_flags) line += " " + flag;
  return line + "\n";
}

std::string options_text(const CorpusCase& entry) {
  std::string text;
  if (!entry.sni_override.empty()) {
    text += "sni_override=";
    for (size_t i = 0; i < entry.sni_override.size(); ++i) {
      text += (i == 0 ? "" : ",") + entry.sni_override[i];
    }
    text += "\n";
  }
  if (entry.cn_fallback) text += "cn_fallback=true\n";
  if (entry.verify_chain) text += "verify_chain=true\n";
  if (entry.reorder_chain) text += "reorder_chain=true\n";
  if (entry.temporary_annotation) text += "temporary_certificate_annotation=true\n";
  return text;
}

void write_case(const fs::path& dir, const CorpusCase& entry) {
  write_file(dir / (entry.name + ".crt"), entry.cert_pem);
  const fs::path key = dir / (entry.name + ".key");
  // Create the file empty and private first, then write the key into it.
  write_file(key, "");
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  write_file(key, entry.key_pem);
  write_file(dir / (entry.name + ".expected"), expected_line(entry));
  if (!entry.ca_pem.empty()) write_file(dir / (entry.name + ".ca.crt"), entry.ca_pem);
  if (entry.uses_options()) write_file(dir / (entry.name + ".options"), options_text(entry));
}

// The outcome of validating a case, in the .expected format.
std::string actual_line(const CorpusCase& entry) {
  const certsync::tls::ValidationResult result =
      certsync::tls::validate_bundle(entry.cert_pem, entry.key_pem, entry.options());
  if (const auto* refused = std::get_if<certsync::tls::Refusal>(&result)) {
    return refused->code + "\n";
  }
  std::string line(certsync::testing::kAccepted);
  for (const std::string& flag :
       certsync::testing::bundle_flags(std::get<certsync::tls::ValidBundle>(result))) {
    line += " " + flag;
  }
  return line + "\n";
}

int usage() {
  std::cerr << "usage: certsync-corpus [--default-options-only] [--check] DIR\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool default_only = false;
  bool check = false;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--default-options-only") {
      default_only = true;
    } else if (arg == "--check") {
      check = true;
    } else if (arg == "-h" || arg == "--help") {
      usage();
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      return usage();
    } else if (dir.empty()) {
      dir = arg;
    } else {
      return usage();
    }
  }
  if (dir.empty()) return usage();

  try {
    fs::create_directories(dir);
    std::string index;
    int written = 0;
    int mismatches = 0;
    for (const CorpusCase& entry : certsync::testing::build_bad_corpus()) {
      if (default_only && entry.uses_options()) continue;
      write_case(dir, entry);
      index += entry.name + "\n";
      ++written;
      if (check) {
        const std::string expected = expected_line(entry);
        const std::string actual = actual_line(entry);
        if (actual != expected) {
          ++mismatches;
          std::cerr << entry.name << ": expected " << expected << "  got " << actual;
        }
      }
    }
    write_file(fs::path(dir) / "index.txt", index);
    std::cout << "wrote " << written << " cases to " << dir << "\n";
    if (mismatches > 0) {
      std::cerr << mismatches << " case(s) do not give the expected result\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "certsync-corpus: " << error.what() << "\n";
    return 2;
  }
}
