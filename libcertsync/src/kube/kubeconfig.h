// Kubeconfig: a ConnectionConfig from one context of one kubeconfig file, read
// the way kubectl reads it, for the subset certsync supports:
//   current-context
//   contexts[].{name, context.{cluster, user, namespace}}
//   clusters[].{name, cluster.{server, certificate-authority,
//               certificate-authority-data, insecure-skip-tls-verify, tls-server-name}}
//   users[].{name, user.{token, tokenFile, client-certificate,
//            client-certificate-data, client-key, client-key-data}}
// Other fields are ignored, except credentials certsync cannot use (exec,
// auth-provider, username/password), which are refused with an error rather
// than silently connecting without them.
//
// As kubectl does: relative file paths are relative to the kubeconfig file's
// directory (they come back absolute); `*-data` fields are base64; a context
// without a user connects anonymously; when both `token` and `tokenFile` are
// set the transport prefers the file (client-go: the file's last good read
// wins). Conflicting settings (a file and `*-data` for the same item,
// insecure-skip-tls-verify together with a CA, a certificate without a key)
// are errors, as they are for kubectl.
//
// One file, not a KUBECONFIG list; no `~` expansion.
#pragma once

#include <string>

#include "kube/connection_config.h"

namespace certsync::kube {

// `context_name` empty: the file's current-context. Never throws. Referenced
// files (certificate-authority, tokenFile, client-certificate, client-key) must
// be readable now. An error names the file and the context, cluster, user or
// field, and never contains a token or key.
ConnectionResult load_kubeconfig(const std::string& path, const std::string& context_name) noexcept;

}  // namespace certsync::kube
