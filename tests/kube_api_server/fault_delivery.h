// How an injected fault shapes the bytes of an answer once its status and
// headers are decided: a stall after the headers, a slow drip of the body.
// The watch stream (routes_watch.cc) calls the first two for its events; the
// guard (api_guard.cc) calls deliver_with_fault() for every other answer.
//
// Everything here runs on the connection's own thread, ends promptly when
// the server stops (the store's stopping()), and notices a client that hung
// up within ~50 ms.
#pragma once

#include <httplib.h>

#include <cstddef>

#include "faults.h"
#include "server_context.h"

namespace kube_test {

// Blocks while `fault` stalls the response after its headers: until the
// faults are cleared or the server stops (true: carry on), or the client
// hangs up (false: drop the connection). Returns true at once when the
// fault does not stall.
bool hold_after_headers(ServerContext &ctx, const FaultHit &fault, int socket);

// Writes `size` bytes to `sink`: in one piece, or `drip_bytes` at a time
// with `drip_interval_ms` between pieces when `fault` drips (each piece is
// one chunk of a chunked response). Once the server is stopping, the rest
// goes in one piece. False when a write failed or the client hung up.
bool write_through_fault(ServerContext &ctx, const FaultHit *fault,
                         httplib::DataSink &sink, const char *data, size_t size,
                         int socket);

// For an answer whose body is complete (anything but a watch): when the
// fault stalls after the headers or drips, the body is handed to httplib as
// a content provider of the same length (Content-Length stays exact) that
// stalls and drips. A no-op for other faults and for streamed answers.
void deliver_with_fault(ServerContext &ctx, const FaultHit &fault,
                        const httplib::Request &req, httplib::Response &res);

}  // namespace kube_test
