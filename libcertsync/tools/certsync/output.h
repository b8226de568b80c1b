// Output: how every verb prints. Humans get aligned "label  value" lines;
// scripts (--json) get exactly one JSON document on stdout per command, or
// one JSON object per line for watch, errors included, so a script never has
// to parse stderr. Nothing here ever sees key material: callers pass only
// public facts.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace certsync::cli {

struct Context {
  bool json = false;
};

// "2025-03-01T00:00:00Z" (RFC 3339, UTC).
std::string rfc3339(int64_t unix_seconds);
// "in 59 days", "3 hours ago": how far a time is from now, for humans.
std::string relative_to_now(int64_t unix_seconds);
std::string join(const std::vector<std::string>& items, const std::string& separator);
// "refused", "unreachable", ...: the name of an exit code, for JSON output.
const char* exit_code_name(int code);

// Human output: "label   value" lines, labels padded to one width.
class Fields {
 public:
  void add(std::string label, std::string value) { rows_.emplace_back(std::move(label), std::move(value)); }
  void print(std::FILE* out = stdout) const;

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
};

void print_json(const nlohmann::json& document);
// Prints one JSON object on one line and flushes (watch's event stream).
void print_json_line(const nlohmann::json& document);

// Reports an error the way the mode asks (human: stderr; --json: a document
// on stdout with "error" and "exit_code") and returns `code` for main().
int fail(const Context& context, int code, const std::string& message);

}  // namespace certsync::cli
