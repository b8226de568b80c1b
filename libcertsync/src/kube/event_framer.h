// EventFramer: splits a WATCH response body into its JSON events.
//
// The API server sends concatenated JSON objects, usually one per line but
// not guaranteed, and the transport cuts them at arbitrary byte offsets. The
// framer tracks object depth (outside strings) and hands out each complete
// object, whatever the chunking. One event may not exceed max_event_bytes,
// so a misbehaving server cannot grow memory without bound.
// Not thread-safe: one framer per stream.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace certsync::kube {

class EventFramer {
 public:
  enum class Result { kOk, kOversize, kGarbage };

  explicit EventFramer(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}
  ~EventFramer() { reset(); }
  EventFramer(const EventFramer&) = delete;
  EventFramer& operator=(const EventFramer&) = delete;

  // Calls on_event once per complete object found in `chunk` (plus what earlier
  // chunks left pending). On kOversize or kGarbage the stream is unusable:
  // the caller drops the connection and calls reset().
  Result feed(std::string_view chunk, const std::function<void(std::string_view)>& on_event);

  // True while an object has started but not ended.
  bool in_event() const { return depth_ > 0; }

  // Forgets any partial event; its bytes are cleansed (they may hold a key).
  void reset();

 private:
  const size_t max_event_bytes_;
  std::string pending_;
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
};

}  // namespace certsync::kube
