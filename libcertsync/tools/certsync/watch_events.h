// WatchEvents: turns what the library publishes (change sets, the status
// JSON, log records) into one line per decision, each said once: the library
// reports state, and this remembers what was already announced.
//
// Events: synced (first full list), serving (a Secret served at that point),
// accepted (a new certificate published), refused (a version the validator
// or the store refused; the last good one keeps serving), deferred (accepted,
// served from a later time), deleted (gone from the API, still served under
// deletion_policy keep), removed (no longer served), error (the watcher's
// errors, e.g. a 403), log (every library record, with --verbose).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

extern "C" {
#include "certsync.h"
}

namespace certsync::cli {

class WatchEvents {
 public:
  WatchEvents(bool json, bool verbose) : json_(json), verbose_(verbose) {}

  // One polling round: log records, then (once synced) changes and status.
  void poll(certsync_t* cs);
  bool synced() const { return generation_ > 0; }
  const std::string& last_error() const { return last_error_; }
  // False once stdout cannot be written (a closed pipe): time to stop.
  bool output_ok() const { return output_ok_; }

 private:
  void drain_log(certsync_t* cs);
  void apply_changes(certsync_t* cs);
  void apply_status(const nlohmann::json& status);
  // Prints one event: a JSON line, or "TIME  EVENT  SECRET  text" for humans
  // (errors and log records on stderr).
  void emit(const std::string& event, const std::string& secret, nlohmann::json fields, const std::string& text);

  const bool json_;
  const bool verbose_;
  bool output_ok_ = true;
  uint64_t generation_ = 0;
  std::string last_error_;
  std::map<std::string, std::string> served_;     // id → fingerprint announced
  std::map<std::string, std::string> refusals_;   // id → resourceVersion and code announced
  std::map<std::string, std::string> deferred_;   // id → serial announced
  std::set<std::string> deleted_;
};

}  // namespace certsync::cli
