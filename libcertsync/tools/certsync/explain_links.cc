#include "explain_links.h"

#include <ctime>

#include "exit_codes.h"
#include "output.h"

namespace certsync::cli {

namespace {

using nlohmann::json;

// Typed reads that tolerate a missing or differently typed field: the
// status of an older or newer plugin must still explain what it can.
std::string text(const json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t number(const json& object, const char* key) {
  if (!object.is_object()) return 0;
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<int64_t>() : 0;
}

bool flag(const json& object, const char* key) {
  if (!object.is_object()) return false;
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

const json& member(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it != object.end() ? *it : kNull;
}

std::string short_serial(const std::string& serial) {
  return serial.size() > 16 ? serial.substr(0, 16) + "…" : serial;
}

std::string when(int64_t unix_seconds) { return rfc3339(unix_seconds) + " (" + relative_to_now(unix_seconds) + ")"; }

// The Secret a client asking for the name gets: what the answering worker
// says it serves (the first of an ECDSA/RSA pair), else the first match.
const json* covering_secret(const json& status) {
  const json& secrets = member(status, "secrets");
  if (!secrets.is_array() || secrets.empty()) return nullptr;
  const json& serves = member(member(status, "this_worker"), "serves_for_sni");
  if (serves.is_array() && !serves.empty() && serves[0].is_string()) {
    for (const json& secret : secrets) {
      if (text(secret, "id") == serves[0].get<std::string>()) return &secret;
    }
  }
  for (const json& secret : secrets) {
    if (member(secret, "served").is_object()) return &secret;
  }
  return nullptr;
}

// The uncovered handshakes the node counted for the name, 0 if none.
int64_t uncovered_count(const json& status, const std::string& sni) {
  for (const json& entry : member(member(status, "uncovered"), "names")) {
    if (text(entry, "name") == sni) return number(entry, "count");
  }
  return 0;
}

Link secret_link(const json& secret, const std::string& sni) {
  const json& served = member(secret, "served");
  const std::string id = text(secret, "id");
  const std::string matched = text(secret, "matched");
  std::string detail = id + (matched.empty() ? "" : " (" + matched + " match)") + ", serving serial " +
                       short_serial(text(served, "serial")) + " until " + when(number(served, "not_after"));
  const std::string state = text(secret, "state");
  const json& refusal = member(secret, "refusal");
  if (state == "refused" && refusal.is_object()) {
    return {"secret",
            id + ": its latest version (resourceVersion " + text(refusal, "resource_version") + ") was refused (" +
                text(refusal, "code") + "): " + text(refusal, "message") + "; the previous certificate, serial " +
                short_serial(text(served, "serial")) + ", still serves " + sni,
            true};
  }
  if (state == "expired" || flag(served, "expired")) {
    return {"secret", id + ": the certificate it serves expired " + when(number(served, "not_after")), true};
  }
  if (state == "kept_after_delete" || flag(secret, "deleted")) {
    return {"secret", id + " was deleted from the API server; its last good certificate still serves " + sni, true};
  }
  const json& deferred = member(secret, "deferred");
  if (deferred.is_object()) {
    detail += "; a newer one (serial " + short_serial(text(deferred, "serial")) + ") waits for its notBefore, " +
              when(number(deferred, "serve_from"));
  }
  return {"secret", detail, false};
}

// The cert-manager Certificate that writes the Secret, when the status knows one.
Link certificate_link(const json& secret) {
  const json& certificate = member(secret, "certificate");
  if (!certificate.is_object()) return {"certificate", "none known (no cert-manager Certificate names this Secret)", false};
  const std::string name = text(certificate, "id").empty() ? text(certificate, "name") : text(certificate, "id");
  const json& ready = member(certificate, "ready");
  const std::string ready_status = ready.is_object() ? text(ready, "status") : text(certificate, "ready");
  std::string detail = name + ": Ready " + (ready_status.empty() ? "unknown" : ready_status);
  const std::string reason = text(ready, "reason");
  if (!reason.empty()) detail += " (" + reason + ")";
  if (flag(certificate, "renewal_overdue")) {
    return {"certificate",
            detail + ": renewal is overdue (renewalTime passed and the Certificate is not Ready): " +
                text(ready, "message"),
            true};
  }
  if (flag(certificate, "not_served")) {
    return {"certificate", detail + ": the Secret's current certificate is not what the workers serve", true};
  }
  return {"certificate", detail, false};
}

Link chain_link(const json& secret) {
  const json& served = member(secret, "served");
  if (flag(served, "chain_incomplete")) {
    return {"chain",
            "incomplete: tls.crt does not carry the leaf's issuer; clients that do not have it cached fail "
            "to verify (complete_chain = true appends it from ca.crt when ca.crt holds it)",
            true};
  }
  const int64_t length = number(served, "chain_length");
  return {"chain", std::to_string(length) + (length == 1 ? " certificate" : " certificates") + " sent", false};
}

Link workers_link(const json& status, const json& secret) {
  const std::string id = text(secret, "id");
  const std::string serial = text(member(secret, "served"), "serial");
  size_t serving = 0, total = 0;
  std::string first_off;
  for (const json& worker : member(status, "workers")) {
    if (flag(worker, "missing")) continue;
    ++total;
    const std::string has = text(member(worker, "serials"), id.c_str());
    if (has == serial) {
      ++serving;
    } else if (first_off.empty()) {
      first_off = "worker " + std::to_string(number(worker, "id")) + " (pid " + std::to_string(number(worker, "pid")) +
                  ") serves " + (has.empty() ? "nothing of it" : "serial " + short_serial(has)) +
                  (flag(worker, "stale") ? ", and has not ticked lately" : "");
    }
  }
  const std::string counted = std::to_string(serving) + " of " + std::to_string(total) + " workers serve serial " +
                              short_serial(serial);
  if (serving < total) return {"workers", counted + "; " + first_off, true};
  return {"workers", counted, false};
}

Link node_link(const json& status) {
  const json& node = member(status, "node");
  if (flag(node, "ready")) return {"node", "ready", false};
  return {"node", "not ready: " + text(node, "not_ready_reason"), true};
}

// Refused Secrets with nothing served: the name may be theirs.
std::vector<std::string> refused_without_certificate(const json* everything) {
  std::vector<std::string> out;
  if (everything == nullptr) return out;
  for (const json& secret : member(*everything, "secrets")) {
    if (member(secret, "served").is_object()) continue;
    const json& refusal = member(secret, "refusal");
    if (!refusal.is_object()) continue;
    if (out.size() == 5) {
      out.push_back("…");
      break;
    }
    out.push_back(text(secret, "id") + " (" + text(refusal, "code") + ")");
  }
  return out;
}

}  // namespace

bool covers_anything(const json& status) { return covering_secret(status) != nullptr; }

Explanation explain(const json& status, const json* everything, const std::string& sni) {
  Explanation out;
  const json* secret = covering_secret(status);
  const json& serves = member(member(status, "this_worker"), "serves_for_sni");
  if (secret == nullptr && serves.is_array() && !serves.empty()) {
    // Served, but the watcher's status of that Secret is not in yet (the
    // owner publishes it once a second): say what is known, not "uncovered".
    out.links.push_back({"secret", "served by " + serves[0].dump() + "; its status is not published yet", true});
    out.links.push_back(node_link(status));
    out.broken_link = "secret";
    out.verdict = "ask again in a second: the status is catching up with what the workers serve";
    out.exit_code = kMismatch;
    return out;
  }
  if (secret == nullptr) {
    std::string detail = "no watched Secret's certificate covers " + sni + ": Kong answers with its own certificate";
    if (const int64_t count = uncovered_count(status, sni); count > 0) {
      detail += " (" + std::to_string(count) + " handshakes asked for it)";
    }
    const auto refused = refused_without_certificate(everything);
    if (!refused.empty()) detail += "; refused Secrets that serve nothing: " + join(refused, ", ");
    out.links.push_back({"secret", detail, true});
    out.links.push_back(node_link(status));
    out.broken_link = "secret";
    out.verdict = "not covered: check the Secret's name and namespace, the watched scope and the certificate's names";
    out.exit_code = kNotFound;
    return out;
  }
  out.links.push_back(certificate_link(*secret));
  out.links.push_back(secret_link(*secret, sni));
  out.links.push_back(chain_link(*secret));
  out.links.push_back(workers_link(status, *secret));
  out.links.push_back(node_link(status));
  for (const Link& link : out.links) {
    if (link.broken) {
      out.broken_link = link.name;
      out.verdict = "broken at " + link.name + ": " + link.detail;
      out.exit_code = kMismatch;
      return out;
    }
  }
  out.verdict = "every link holds: " + sni + " gets " + text(*secret, "id") + "'s certificate on every worker";
  return out;
}

}  // namespace certsync::cli
