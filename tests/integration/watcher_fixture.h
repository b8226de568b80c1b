// Helpers shared by the integration tests: test certificates, a certsync
// instance through the C ABI (as Lua drives it), and what it reports.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

extern "C" {
#include "certsync.h"
}

#include "test_server_process.h"

namespace certsync::testing {

struct PemPair {
  std::string crt;
  std::string key;
};

// A self-signed EC certificate for `name`; `slot` picks one of several keys.
PemPair make_pair_for(const std::string& name, int slot);
std::string serial_of(const std::string& pem);

using Handle = std::unique_ptr<certsync_t, decltype(&certsync_destroy)>;

// Creates and starts an instance; the test fails when creation fails.
Handle start_certsync(const std::map<std::string, std::string>& settings);
// The usual settings for `server`, watching namespace "default", plus `extra`.
std::map<std::string, std::string> settings_for(const TestServerProcess& server,
                                                const std::map<std::string, std::string>& extra = {});
// certsync_new's error for these settings ("" when it succeeds).
std::string creation_error(const std::map<std::string, std::string>& settings);

// id -> serial of everything the store serves.
std::map<std::string, std::string> served(certsync_t* cs);
nlohmann::json status(certsync_t* cs);
nlohmann::json watcher_status(certsync_t* cs);  // the first scope's watcher

}  // namespace certsync::testing
