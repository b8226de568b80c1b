// metadata.managedFields: which field manager set which fields of a Secret,
// in the FieldsV1 form a real server records (fixtures/kube-api-samples 04,
// 07, 10, 15: every object a real server returns carries them, so clients
// must cope with their size and their odd keys like "f:data" and ".").
//
// An approximation of apimachinery's field manager, for one flat kind:
//  - tracked fields: `type`, `immutable`, `data` and each data key,
//    `metadata.labels` / `metadata.annotations` and each of their keys
//    (a map itself is the "." entry inside it, as on a real server);
//  - a write of operation "Update" (POST, PUT, PATCH) gives its manager the
//    fields it added or changed, and takes them away from every other
//    manager; "Apply" (server-side apply) gives its manager exactly the
//    fields of the applied configuration;
//  - removed fields leave every set; a manager left with nothing is dropped;
//    the writer's entry gets the time of the write.
// Whatever managedFields a client sends are ignored. Pure functions.
#pragma once

#include <string>

#include "json.h"

namespace kube_test {

// The manager a write is recorded under: the fieldManager query parameter,
// else the User-Agent up to its first "/" ("curl/8.0" -> "curl"), as a real
// server does; may be empty (the entry then has no "manager").
std::string field_manager(const std::string &field_manager_param,
                          const std::string &user_agent);

// Sets next.metadata.managedFields for a write that turns `current`
// (nullptr on create) into `next`. `operation` is "Update" or "Apply";
// `applied` is the applied configuration for "Apply" (else nullptr).
void record_managed_fields(const Json *current, Json &next,
                           const std::string &manager,
                           const std::string &operation,
                           const Json *applied = nullptr);

}  // namespace kube_test
