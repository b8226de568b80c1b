// The files the server leaves in its --dir for the tests that start it.
//
// Every file is written to a temporary name and renamed into place, so a test
// polling for DIR/server (the "ready" signal, written last) or any other file
// never reads it half-written.
#pragma once

#include <string>

namespace kube_test {

// Writes `content` to `path` atomically; false (errno kept) on failure.
bool write_file_atomically(const std::string &path, const std::string &content,
                           unsigned mode = 0644);

// A kubeconfig that kubectl and client libraries accept as is: one cluster
// (server URL, CA inline as certificate-authority-data), one token user, one
// context with namespace default, selected as current-context.
std::string kubeconfig_yaml(const std::string &server_url,
                            const std::string &ca_pem,
                            const std::string &token);

}  // namespace kube_test
