// PATCH bodies for `application/merge-patch+json` (RFC 7386) and
// `application/strategic-merge-patch+json`.
//
// A Secret has only maps and scalars where patches land (data, stringData,
// labels, annotations, type), and for maps a strategic merge patch behaves
// like a JSON merge patch. So one implementation serves both; the strategic
// flavour additionally honours `$patch: replace|delete` on a map and ignores
// every other `$`-directive (`$retainKeys`, `$setElementOrder/...`, ...),
// which `kubectl apply` may send.
#pragma once

#include "json.h"

namespace kube_test {

enum class PatchFlavour { kJsonMerge, kStrategicMerge };

// Returns `target` with `patch` applied. Never fails: any JSON is a valid
// merge patch (a non-object patch replaces the target).
Json apply_merge_patch(const Json &target, const Json &patch,
                       PatchFlavour flavour);

}  // namespace kube_test
