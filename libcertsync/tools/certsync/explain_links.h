// The reasoning behind `certsync explain`: a node's status (as
// /certsync/status?sni=NAME answers it) in, the chain of custody of one
// server name out, link by link, with the first one that does not hold.
// Pure: no I/O, so every branch can be fed a status and checked.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace certsync::cli {

struct Link {
  std::string name;    // "secret", "certificate", "chain", "workers", "node"
  std::string detail;  // one line for humans
  bool broken = false;
};

struct Explanation {
  std::vector<Link> links;
  std::string broken_link;  // the first broken link's name, empty when all hold
  std::string verdict;      // one line
  int exit_code = 0;        // kOk, kMismatch (a broken link) or kNotFound (nothing covers the name)
};

// True when some watched Secret's certificate covers the name the status
// was filtered by.
bool covers_anything(const nlohmann::json& status);

// `status`: filtered by the name. `everything`: the unfiltered status, or
// null; read only when nothing covers the name, for refused Secrets that
// serve nothing (a first version refused: nothing to match the name against).
Explanation explain(const nlohmann::json& status, const nlohmann::json* everything, const std::string& sni);

}  // namespace certsync::cli
