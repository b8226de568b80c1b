// A TCP connection with a deadline, for probe: a filtered port must end in a
// clear "timed out" rather than the kernel's minutes-long SYN retries.
#pragma once

#include <string>

namespace certsync::cli {

// Connects to host:port (a name, an IPv4 address or an IPv6 one, brackets
// allowed), trying each address in turn within `timeout_ms` overall. Returns
// a blocking socket whose reads and writes time out after `timeout_ms`, or -1
// with *error set ("connection refused", "timed out", a resolver message).
int tcp_connect(const std::string& host, const std::string& port, int timeout_ms, std::string* error);

}  // namespace certsync::cli
