// LogQueue: log records the library produces and its caller drains.
// The library never calls into Lua (design invariant 4), so records wait here
// until certsync_log_pop(). The queue is bounded: when it is full the oldest
// record is dropped and counted, and the next drained record says so.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace certsync {

enum class LogLevel : int { kError = 3, kWarn = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

struct LogRecord {
  LogLevel level;
  std::string message;
};

class LogQueue {
 public:
  explicit LogQueue(size_t capacity = 1024) : capacity_(capacity) {}

  void push(LogLevel level, std::string message);
  std::optional<LogRecord> pop();
  uint64_t dropped() const;

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<LogRecord> records_;
  uint64_t dropped_total_ = 0;
  uint64_t dropped_unreported_ = 0;
};

}  // namespace certsync
