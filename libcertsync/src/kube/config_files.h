// Small file helpers for the configuration sources (in-cluster, kubeconfig):
// readability checks and bounded reads that report an errno value instead of
// throwing, so every caller can name the file and the reason in its error.
#pragma once

#include <cstddef>
#include <string>

namespace certsync::kube {

// 0 when `path` opens for reading and is not a directory, else an errno value.
// Opening is what counts: as root, permission bits alone say little.
int check_readable(const std::string& path) noexcept;

// Replaces `out` with the whole content of `path`. Returns 0, an errno value,
// or EFBIG when the file holds more than `max_bytes`. On failure `out` is
// cleansed and empty. May throw std::bad_alloc.
int read_file_bounded(const std::string& path, size_t max_bytes, std::string& out);

// The text of an errno value ("No such file or directory"), thread-safe.
std::string errno_text(int err);

// Overwrites a string's bytes before it is released (it may have held a token
// or key), then empties it.
void cleanse_string(std::string& text) noexcept;

}  // namespace certsync::kube
