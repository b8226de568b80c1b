// Reads a running node's status (certsync's /certsync/status on Kong's
// Status API) over HTTP, as `explain` needs it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace certsync::cli {

// GET base_url + "/certsync/status" + query (e.g. "?sni=www.example.com"),
// decoded. Throws Failure(kUnreachable) when the node cannot be reached or
// does not answer with a status, naming the URL and what went wrong.
nlohmann::json fetch_status(const std::string& base_url, const std::string& query);

// "?sni=NAME" with NAME percent-encoded where a URL needs it.
std::string sni_query(const std::string& name);

}  // namespace certsync::cli
