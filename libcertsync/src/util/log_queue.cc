#include "util/log_queue.h"

namespace certsync {

void LogQueue::push(LogLevel level, std::string message) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (records_.size() >= capacity_) {
    records_.pop_front();
    ++dropped_total_;
    ++dropped_unreported_;
  }
  records_.push_back(LogRecord{level, std::move(message)});
}

std::optional<LogRecord> LogQueue::pop() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (dropped_unreported_ > 0) {
    LogRecord notice{LogLevel::kWarn, std::to_string(dropped_unreported_) +
                                          " log records were dropped: the log queue was full"};
    dropped_unreported_ = 0;
    return notice;
  }
  if (records_.empty()) return std::nullopt;
  LogRecord record = std::move(records_.front());
  records_.pop_front();
  return record;
}

uint64_t LogQueue::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_total_;
}

}  // namespace certsync
