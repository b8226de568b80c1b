// The validation options for one Secret version: the watcher's node-wide
// options plus what the Secret itself says (ca.crt, the server-names
// annotation). Kept here, once, so the watcher and the certsync CLI judge a
// Secret with the same options.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kube/secret.h"
#include "kube/watch_options.h"
#include "tls/validate.h"

namespace certsync::kube {

// Splits a kServerNamesAnnotation value into names: comma-separated, each
// item trimmed of blanks and tabs, empty items dropped. Whitespace inside an
// item is kept, so "a.example.com b.example.com" stays one (malformed) name
// and validate_bundle() refuses it with sni_override_invalid rather than
// reading two names out of it. Names are not checked here.
std::vector<std::string> split_server_names(std::string_view annotation);

// options.validation with the per-Secret part added: ca.crt as given, and the
// server-names annotation (when options.honour_server_names_annotation)
// split as above into sni_override. The temporary-certificate annotation is
// deliberately not passed on (see the .cc). The result's ca_pem is a view of
// the Secret's ca.crt: the Secret must outlive it.
tls::ValidationOptions validation_options_for(const Secret& secret, const WatchOptions& options);

// The same from the Secret's fields alone, for a caller without a Secret
// (certsync check judges files). ca_crt must outlive the result.
tls::ValidationOptions validation_options_for(std::string_view ca_crt, std::string_view server_names_annotation,
                                              const WatchOptions& options);

}  // namespace certsync::kube
