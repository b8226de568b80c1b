// Decodes the protobuf body `kubectl create secret` POSTs
// (Content-Type: application/vnd.kubernetes.protobuf) into the same JSON a
// client would have sent, so the rest of the server only deals with JSON.
//
// Wire shape (k8s.io/apimachinery runtime/serializer/protobuf):
//   "k8s\0" magic, then a runtime.Unknown message:
//     1 typeMeta {1 apiVersion, 2 kind}, 2 raw (bytes),
//     3 contentEncoding, 4 contentType
//   raw holds a k8s.io/api/core/v1.Secret:
//     1 metadata ObjectMeta {1 name, 2 generateName, 3 namespace,
//       5 uid, 6 resourceVersion, 11 labels map, 12 annotations map}
//     2 data map<string, bytes>, 3 type, 4 stringData map<string,string>,
//     5 immutable (bool)
// A map entry is a nested message {1 key, 2 value}. Other fields are skipped.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "json.h"

namespace kube_test {

// On success `out` is a Secret in JSON form (data values base64-encoded).
// On failure returns a human-readable reason (for a 400 BadRequest).
std::optional<std::string> decode_protobuf_secret(std::string_view body,
                                                  Json &out);

}  // namespace kube_test
