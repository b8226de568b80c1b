#include "args.h"

#include <algorithm>

namespace certsync::cli {

namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

Args Args::parse(const std::vector<std::string>& argv, const FlagSpec& spec) {
  FlagSpec full = spec;
  full.booleans.push_back("--json");
  full.booleans.push_back("--help");
  full.aliases.emplace("-h", "--help");

  Args args;
  bool flags_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string word = argv[i];
    if (flags_done || word.size() < 2 || word[0] != '-') {
      args.positionals_.push_back(word);
      continue;
    }
    if (word == "--") {
      flags_done = true;
      continue;
    }
    std::optional<std::string> inline_value;
    const size_t equals = word.find('=');
    if (word.rfind("--", 0) == 0 && equals != std::string::npos) {
      inline_value = word.substr(equals + 1);
      word = word.substr(0, equals);
    }
    if (auto alias = full.aliases.find(word); alias != full.aliases.end()) word = alias->second;
    if (contains(full.booleans, word)) {
      if (inline_value) throw UsageError(word + " takes no value");
      args.values_[word].emplace_back();
    } else if (contains(full.valued, word)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) throw UsageError(word + " needs a value");
        inline_value = argv[++i];
      }
      args.values_[word].push_back(*inline_value);
    } else {
      throw UsageError("unknown flag " + word);
    }
  }
  return args;
}

std::optional<std::string> Args::value(const std::string& flag) const {
  auto it = values_.find(flag);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::string Args::required(const std::string& flag) const {
  auto found = value(flag);
  if (!found || found->empty()) throw UsageError(flag + " is required");
  return *found;
}

std::vector<std::string> Args::all(const std::string& flag) const {
  auto it = values_.find(flag);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace certsync::cli
