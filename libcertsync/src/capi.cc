// capi.cc: the C ABI of certsync.h mapped onto the C++ core.
// No logic of its own: argument checks, exception fences, and copies into
// malloc()ed memory the caller frees with certsync_free().
extern "C" {
#include "certsync.h"
}

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>

#include "engine.h"

#define CERTSYNC_EXPORT __attribute__((visibility("default")))

struct certsync_config_t {
  certsync::ConfigMap values;
};

struct certsync_t {
  std::shared_ptr<certsync::Engine> engine;  // shared with other handles of the same settings
  std::mutex mutex;
  bool started = false;  // whether this handle counts as one of the engine's starters
};

struct certsync_changes_t {
  certsync::store::ChangeSet set;
  // The PEM texts of the change last asked for (certsync_changes_get): the
  // store keeps them packed, and one at a time is all a reader copies, so
  // neither memory nor the set's free grows with what was read. The key is
  // cleansed when replaced.
  mutable std::string cert;
  mutable certsync::SecretBytes key;
};

struct certsync_status_t {
  certsync::store::StatusDelta delta;
  std::string summary;
  // The JSON of the Secret last asked for (certsync_status_get), rendered
  // then: the store keeps no text per Secret, and neither does the delta.
  mutable std::string text;
};

namespace {

char* copy_out(const std::string& text, size_t* len) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  if (len != nullptr) *len = text.size();
  return out;
}

void set_error(char** errptr, const std::string& message) {
  if (errptr != nullptr) *errptr = copy_out(message, nullptr);
}

// Runs `body`, turning any C++ exception into an error message: none may cross the ABI.
template <typename Body, typename Result>
Result fenced(char** errptr, Result on_error, Body&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    set_error(errptr, "out of memory");
  } catch (const std::exception& e) {
    set_error(errptr, std::string("internal error: ") + e.what());
  } catch (...) {
    set_error(errptr, "internal error");
  }
  return on_error;
}

}  // namespace

extern "C" {

CERTSYNC_EXPORT certsync_config_t* certsync_config_new(void) {
  return new (std::nothrow) certsync_config_t();
}

CERTSYNC_EXPORT int certsync_config_set(certsync_config_t* cfg, const char* key, const char* value,
                                        char** errptr) {
  if (cfg == nullptr || key == nullptr || value == nullptr) {
    set_error(errptr, "certsync_config_set: a NULL argument");
    return -1;
  }
  return fenced(errptr, -1, [&] {
    if (auto error = certsync::check_config_entry(key, value)) {
      set_error(errptr, *error);
      return -1;
    }
    cfg->values[key] = value;
    return 0;
  });
}

CERTSYNC_EXPORT void certsync_config_free(certsync_config_t* cfg) { delete cfg; }

CERTSYNC_EXPORT certsync_t* certsync_new(const certsync_config_t* cfg, char** errptr) {
  if (cfg == nullptr) {
    set_error(errptr, "certsync_new: a NULL configuration");
    return nullptr;
  }
  return fenced(errptr, static_cast<certsync_t*>(nullptr), [&]() -> certsync_t* {
    auto acquired = certsync::Engine::acquire(cfg->values);
    if (auto* error = std::get_if<std::string>(&acquired)) {
      set_error(errptr, *error);
      return nullptr;
    }
    auto* handle = new certsync_t();
    handle->engine = std::move(std::get<std::shared_ptr<certsync::Engine>>(acquired));
    return handle;
  });
}

CERTSYNC_EXPORT int certsync_start(certsync_t* cs, char** errptr) {
  if (cs == nullptr) {
    set_error(errptr, "certsync_start: a NULL handle");
    return -1;
  }
  return fenced(errptr, -1, [&] {
    std::lock_guard<std::mutex> lock(cs->mutex);
    if (!cs->started) cs->engine->start();
    cs->started = true;
    return 0;
  });
}

CERTSYNC_EXPORT void certsync_stop(certsync_t* cs) {
  if (cs == nullptr) return;
  fenced(nullptr, 0, [&] {
    std::lock_guard<std::mutex> lock(cs->mutex);
    if (cs->started) cs->engine->stop();
    cs->started = false;
    return 0;
  });
}

CERTSYNC_EXPORT void certsync_destroy(certsync_t* cs) {
  if (cs == nullptr) return;
  certsync_stop(cs);
  fenced(nullptr, 0, [&] {
    delete cs;
    return 0;
  });
}

CERTSYNC_EXPORT uint64_t certsync_generation(certsync_t* cs) {
  return cs == nullptr ? 0 : cs->engine->store().generation();
}

CERTSYNC_EXPORT void certsync_notify(certsync_t* cs) {
  if (cs != nullptr) cs->engine->notify();
}

CERTSYNC_EXPORT certsync_changes_t* certsync_changes_since(certsync_t* cs, uint64_t generation,
                                                           char** errptr) {
  if (cs == nullptr) {
    set_error(errptr, "certsync_changes_since: a NULL handle");
    return nullptr;
  }
  return fenced(errptr, static_cast<certsync_changes_t*>(nullptr), [&] {
    auto* changes = new certsync_changes_t();
    changes->set = cs->engine->store().changes_since(generation);
    return changes;
  });
}

CERTSYNC_EXPORT uint64_t certsync_changes_generation(const certsync_changes_t* ch) {
  return ch == nullptr ? 0 : ch->set.generation;
}

CERTSYNC_EXPORT int certsync_changes_full(const certsync_changes_t* ch) {
  return ch != nullptr && ch->set.full ? 1 : 0;
}

CERTSYNC_EXPORT size_t certsync_changes_count(const certsync_changes_t* ch) {
  return ch == nullptr ? 0 : ch->set.changes.size();
}

CERTSYNC_EXPORT int certsync_changes_get(const certsync_changes_t* ch, size_t index,
                                         certsync_bundle_t* out) {
  if (ch == nullptr || out == nullptr || index >= ch->set.changes.size()) return -1;
  const certsync::store::Change& change = *ch->set.changes[index];
  out->id = change.id.data();
  out->id_len = change.id.size();
  out->removed = change.removed ? 1 : 0;
  out->snis = change.snis.data();
  out->snis_len = change.snis.size();
  const int unpacked = fenced(nullptr, -1, [&] {
    ch->cert = change.cert_packed ? change.cert_pem() : std::string();
    ch->key = change.key_packed ? change.key_pem() : certsync::SecretBytes();
    return 0;
  });
  if (unpacked != 0) return -1;
  const std::string& cert_pem = change.cert_packed ? ch->cert : change.cert;
  const certsync::SecretBytes& key_pem = change.key_packed ? ch->key : change.key;
  out->cert_pem = cert_pem.data();
  out->cert_pem_len = cert_pem.size();
  out->key_pem = key_pem.data();
  out->key_pem_len = key_pem.size();
  out->serial = change.serial.data();
  out->serial_len = change.serial.size();
  out->not_before = change.not_before;
  out->not_after = change.not_after;
  out->key_type = change.key_type.data();
  out->key_type_len = change.key_type.size();
  out->observed_at_ms = change.observed_at_ms;
  return 0;
}

CERTSYNC_EXPORT void certsync_changes_free(certsync_changes_t* ch) { delete ch; }

CERTSYNC_EXPORT char* certsync_status_json(certsync_t* cs, size_t* len) {
  if (cs == nullptr) return nullptr;
  return fenced(nullptr, static_cast<char*>(nullptr),
                [&] { return copy_out(cs->engine->status_json(), len); });
}

CERTSYNC_EXPORT char* certsync_certificates_json(certsync_t* cs, uint64_t known, uint64_t* version, size_t* len) {
  if (len != nullptr) *len = 0;
  if (cs == nullptr) return nullptr;
  return fenced(nullptr, static_cast<char*>(nullptr), [&]() -> char* {
    uint64_t current = 0;
    auto text = cs->engine->certificates_json(known, &current);
    if (version != nullptr) *version = current;
    return text ? copy_out(*text, len) : nullptr;
  });
}

CERTSYNC_EXPORT certsync_status_t* certsync_status_since(certsync_t* cs, uint64_t version, char** errptr) {
  if (cs == nullptr) {
    set_error(errptr, "certsync_status_since: a NULL handle");
    return nullptr;
  }
  return fenced(errptr, static_cast<certsync_status_t*>(nullptr), [&] {
    auto* status = new certsync_status_t();
    status->delta = cs->engine->store().status_since(version);
    status->summary = cs->engine->status_summary_json();
    return status;
  });
}

CERTSYNC_EXPORT uint64_t certsync_status_version(const certsync_status_t* st) {
  return st == nullptr ? 0 : st->delta.version;
}

CERTSYNC_EXPORT int certsync_status_full(const certsync_status_t* st) {
  return st != nullptr && st->delta.full ? 1 : 0;
}

CERTSYNC_EXPORT const char* certsync_status_summary(const certsync_status_t* st, size_t* len) {
  if (st == nullptr) return nullptr;
  if (len != nullptr) *len = st->summary.size();
  return st->summary.data();
}

CERTSYNC_EXPORT size_t certsync_status_count(const certsync_status_t* st) {
  return st == nullptr ? 0 : st->delta.secrets.size() + st->delta.removed.size();
}

CERTSYNC_EXPORT int certsync_status_get(const certsync_status_t* st, size_t index, const char** id,
                                        size_t* id_len, const char** json, size_t* json_len) {
  if (st == nullptr || id == nullptr || id_len == nullptr || json == nullptr || json_len == nullptr) return -1;
  const auto& secrets = st->delta.secrets;
  if (index < secrets.size()) {
    const auto& [secret_id, secret] = secrets[index];
    const int rendered = fenced(nullptr, -1, [&] {
      st->text = certsync::store::status_json(secret_id, secret, st->delta.now).dump();
      return 0;
    });
    if (rendered != 0) return -1;
    *id = secret_id.data();
    *id_len = secret_id.size();
    *json = st->text.data();
    *json_len = st->text.size();
    return 0;
  }
  index -= secrets.size();
  if (index >= st->delta.removed.size()) return -1;
  *id = st->delta.removed[index].data();
  *id_len = st->delta.removed[index].size();
  *json = "";
  *json_len = 0;
  return 0;
}

CERTSYNC_EXPORT void certsync_status_free(certsync_status_t* st) { delete st; }

CERTSYNC_EXPORT char* certsync_log_pop(certsync_t* cs, int* level, size_t* len) {
  if (cs == nullptr) return nullptr;
  return fenced(nullptr, static_cast<char*>(nullptr), [&]() -> char* {
    auto record = cs->engine->log().pop();
    if (!record) return nullptr;
    if (level != nullptr) *level = static_cast<int>(record->level);
    return copy_out(record->message, len);
  });
}

CERTSYNC_EXPORT void certsync_free(void* ptr) { std::free(ptr); }

}  // extern "C"
