#include "watch_events.h"

#include <cstdio>
#include <ctime>
#include <memory>
#include <vector>

#include "cert_facts.h"
#include "output.h"

namespace certsync::cli {

namespace {

struct LibraryString {
  char* text;
  ~LibraryString() { certsync_free(text); }
};

struct Changes {
  certsync_changes_t* set;
  ~Changes() { certsync_changes_free(set); }
};

const char* level_name(int level) {
  switch (level) {
    case CERTSYNC_LOG_ERR: return "error";
    case CERTSYNC_LOG_WARN: return "warn";
    case CERTSYNC_LOG_NOTICE: return "notice";
    case CERTSYNC_LOG_INFO: return "info";
    default: return "debug";
  }
}

std::vector<std::string> split_spaces(std::string_view text) {
  std::vector<std::string> out;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

void WatchEvents::poll(certsync_t* cs) {
  drain_log(cs);
  if (certsync_generation(cs) == 0) return;  // the first full list is not in yet
  size_t length = 0;
  LibraryString status{certsync_status_json(cs, &length)};
  if (status.text == nullptr) return;
  auto parsed = nlohmann::json::parse(std::string_view(status.text, length), nullptr, false);
  if (!parsed.is_object()) return;
  if (generation_ == 0) {
    // Announced before the Secrets it covers, so a reader knows what follows is the initial state.
    size_t serving = 0, refused = 0;
    for (const auto& secret : parsed.value("secrets", nlohmann::json::array())) {
      if (secret.contains("served")) ++serving;
      if (secret.contains("refusal")) ++refused;
    }
    emit("synced", "", {{"serving", serving}, {"refused", refused}},
         std::to_string(serving) + " serving, " + std::to_string(refused) + " refused");
  }
  apply_changes(cs);
  apply_status(parsed);
}

void WatchEvents::drain_log(certsync_t* cs) {
  for (;;) {
    int level = 0;
    size_t length = 0;
    LibraryString record{certsync_log_pop(cs, &level, &length)};
    if (record.text == nullptr) return;
    const std::string message(record.text, length);
    if (level == CERTSYNC_LOG_ERR) {
      last_error_ = message;
      emit("error", "", {{"message", message}}, message);
    } else if (verbose_) {
      emit("log", "", {{"level", level_name(level)}, {"message", message}},
           std::string(level_name(level)) + ": " + message);
    }
  }
}

void WatchEvents::apply_changes(certsync_t* cs) {
  char* error = nullptr;
  Changes changes{certsync_changes_since(cs, generation_, &error)};
  if (changes.set == nullptr) {
    emit("error", "", {{"message", error != nullptr ? error : "no change set"}}, error != nullptr ? error : "no change set");
    certsync_free(error);
    return;
  }
  const uint64_t generation = certsync_changes_generation(changes.set);
  if (generation == 0) return;
  const bool initial = generation_ == 0;
  const bool full = certsync_changes_full(changes.set) == 1;
  std::set<std::string> present;
  for (size_t i = 0; i < certsync_changes_count(changes.set); ++i) {
    certsync_bundle_t bundle{};
    if (certsync_changes_get(changes.set, i, &bundle) != 0) continue;
    const std::string id(bundle.id, bundle.id_len);
    if (bundle.removed) {
      if (served_.erase(id) > 0) emit("removed", id, {{"generation", generation}}, "no longer served");
      continue;
    }
    present.insert(id);
    // Only public facts are read from the bundle; key_pem is never touched.
    auto facts = first_certificate_facts(std::string_view(bundle.cert_pem, bundle.cert_pem_len));
    const std::string fingerprint = facts ? facts->fingerprint_sha256 : std::string();
    auto known = served_.find(id);
    if (known != served_.end() && known->second == fingerprint) continue;  // a full set repeating what we have
    served_[id] = fingerprint;
    const std::string serial(bundle.serial, bundle.serial_len);
    const std::vector<std::string> snis = split_spaces(std::string_view(bundle.snis, bundle.snis_len));
    nlohmann::json fields = {{"serial", serial},
                             {"fingerprint_sha256", fingerprint},
                             {"snis", snis},
                             {"not_before", rfc3339(bundle.not_before)},
                             {"not_after", rfc3339(bundle.not_after)},
                             {"key_type", std::string(bundle.key_type, bundle.key_type_len)},
                             {"generation", generation}};
    if (facts) fields["issuer"] = facts->issuer;
    emit(initial ? "serving" : "accepted", id, fields,
         "serial " + serial + "  names " + join(snis, ",") + "  notAfter " + rfc3339(bundle.not_after) + "  " +
             std::string(bundle.key_type, bundle.key_type_len));
  }
  if (full) {
    // A full set replaces everything: what it lacks is no longer served.
    for (auto it = served_.begin(); it != served_.end();) {
      if (present.count(it->first) == 0) {
        emit("removed", it->first, {{"generation", generation}}, "no longer served");
        it = served_.erase(it);
      } else {
        ++it;
      }
    }
  }
  generation_ = generation;
}

void WatchEvents::apply_status(const nlohmann::json& status) {
  std::set<std::string> refused_now;
  for (const auto& secret : status.value("secrets", nlohmann::json::array())) {
    if (!secret.is_object()) continue;
    const std::string id = secret.value("id", "");
    const auto refusal = secret.value("refusal", nlohmann::json::object());
    if (!refusal.empty()) {
      refused_now.insert(id);
      const std::string code = refusal.value("code", "");
      const std::string rv = refusal.value("resource_version", "");
      const std::string key = rv + " " + code;
      if (refusals_[id] != key) {
        refusals_[id] = key;
        const auto served = secret.value("served", nlohmann::json::object());
        const std::string keeps = served.empty() ? "nothing was served for it yet"
                                                 : "the last good certificate keeps serving (serial " +
                                                       served.value("serial", "") + ")";
        emit("refused", id,
             {{"code", code}, {"message", refusal.value("message", "")}, {"resource_version", rv},
              {"serving_serial", served.empty() ? nlohmann::json() : nlohmann::json(served.value("serial", ""))}},
             code + ": " + refusal.value("message", "") + " (resourceVersion " + rv + "); " + keeps);
      }
    }
    const auto deferred = secret.value("deferred", nlohmann::json::object());
    if (!deferred.empty()) {
      const std::string serial = deferred.value("serial", "");
      if (deferred_[id] != serial) {
        deferred_[id] = serial;
        const int64_t from = deferred.value("serve_from", int64_t{0});
        emit("deferred", id, {{"serial", serial}, {"serve_from", rfc3339(from)}},
             "serial " + serial + " accepted, served from " + rfc3339(from) + " (notBefore minus the clock skew)");
      }
    } else {
      deferred_.erase(id);
    }
    const bool deleted = secret.value("deleted", false) || secret.value("state", "") == "kept_after_delete";
    if (deleted && deleted_.insert(id).second)
      emit("deleted", id, {}, "gone from the API; its last good certificate keeps serving (deletion_policy keep)");
    if (!deleted) deleted_.erase(id);
  }
  // A refusal cleared by a good version: forget it, so the next one is told.
  for (auto it = refusals_.begin(); it != refusals_.end();)
    it = refused_now.count(it->first) ? std::next(it) : refusals_.erase(it);
}

void WatchEvents::emit(const std::string& event, const std::string& secret, nlohmann::json fields,
                       const std::string& text) {
  const std::string now = rfc3339(static_cast<int64_t>(std::time(nullptr)));
  if (json_) {
    // Insertion order, so that every line reads time, event, secret first.
    nlohmann::ordered_json line = {{"time", now}, {"event", event}};
    if (!secret.empty()) line["secret"] = secret;
    for (auto& [key, value] : fields.items()) line[key] = std::move(value);
    std::printf("%s\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    output_ok_ = std::fflush(stdout) == 0 && !std::ferror(stdout);
    return;
  }
  std::FILE* out = (event == "error" || event == "log") ? stderr : stdout;
  std::fprintf(out, "%s  %-8s  %s%s%s\n", now.c_str(), event.c_str(), secret.c_str(), secret.empty() ? "" : "  ",
               text.c_str());
  const bool written = std::fflush(out) == 0 && !std::ferror(out);
  if (out == stdout && !written) output_ok_ = false;  // nobody reads the events any more
}

}  // namespace certsync::cli
