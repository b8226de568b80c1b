#include "kube/event_framer.h"

#include <openssl/crypto.h>

namespace certsync::kube {

namespace {
bool is_json_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
}  // namespace

EventFramer::Result EventFramer::feed(std::string_view chunk,
                                      const std::function<void(std::string_view)>& on_event) {
  size_t start = 0;  // where the current event begins inside `chunk`
  for (size_t i = 0; i < chunk.size(); ++i) {
    const char c = chunk[i];
    if (depth_ == 0) {
      if (is_json_space(c)) continue;
      if (c != '{') return Result::kGarbage;
      start = i;
      depth_ = 1;
      in_string_ = false;
      escaped_ = false;
      continue;
    }
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        const std::string_view tail = chunk.substr(start, i + 1 - start);
        if (pending_.size() + tail.size() > max_event_bytes_) return Result::kOversize;
        if (pending_.empty()) {
          on_event(tail);
        } else {
          pending_.append(tail);
          on_event(pending_);
          reset();
        }
      }
    }
  }
  if (depth_ > 0) {
    const std::string_view tail = chunk.substr(start);
    if (pending_.size() + tail.size() > max_event_bytes_) return Result::kOversize;
    pending_.append(tail);
  }
  return Result::kOk;
}

void EventFramer::reset() {
  if (!pending_.empty()) OPENSSL_cleanse(pending_.data(), pending_.size());
  pending_.clear();
  depth_ = 0;
  in_string_ = false;
  escaped_ = false;
}

}  // namespace certsync::kube
