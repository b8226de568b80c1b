// Args: the command line of one verb, parsed against the flags that verb
// declares. Anything undeclared is a usage error rather than being ignored,
// so a mistyped flag never silently changes what is checked.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exit_codes.h"

namespace certsync::cli {

// A bad command line. main() prints it with a pointer to the verb's --help
// and exits with kUsage.
class UsageError : public Failure {
 public:
  explicit UsageError(const std::string& message) : Failure(kUsage, message) {}
};

struct FlagSpec {
  std::vector<std::string> valued;    // long names of flags that take a value, e.g. "--cert"
  std::vector<std::string> booleans;  // long names of flags without a value
  std::map<std::string, std::string> aliases;  // short form → long form, e.g. "-n" → "--namespace"
};

class Args {
 public:
  // Accepts "--flag value", "--flag=value", "-n value" and positionals; "--"
  // ends the flags. --json and --help (-h) are accepted by every verb.
  static Args parse(const std::vector<std::string>& argv, const FlagSpec& spec);

  bool has(const std::string& flag) const { return values_.count(flag) > 0; }
  // The last value given, if any.
  std::optional<std::string> value(const std::string& flag) const;
  // The value, or a UsageError naming the flag.
  std::string required(const std::string& flag) const;
  // Every value given, in order (for repeatable flags such as -n).
  std::vector<std::string> all(const std::string& flag) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;  // a boolean holds one empty value
  std::vector<std::string> positionals_;
};

}  // namespace certsync::cli
