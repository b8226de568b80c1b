// EventFramer: WATCH bodies decode the same however the transport cuts them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "kube/event_framer.h"

using certsync::kube::EventFramer;

namespace {

const std::string kAdded =
    R"({"type":"ADDED","object":{"kind":"Secret","metadata":{"name":"a {b}","resourceVersion":"7"},)"
    R"("data":{"tls.crt":"eyJ9XQ==","note":"a \"quoted\" } brace and a \\ backslash"}}})";
const std::string kBookmark = R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})";

std::vector<std::string> feed_all(EventFramer& framer, const std::vector<std::string>& chunks,
                                  EventFramer::Result* last = nullptr) {
  std::vector<std::string> events;
  for (const auto& chunk : chunks) {
    auto result = framer.feed(chunk, [&](std::string_view event) { events.emplace_back(event); });
    if (last != nullptr) *last = result;
    if (result != EventFramer::Result::kOk) break;
  }
  return events;
}

}  // namespace

TEST_CASE("an event split at every byte offset decodes the same", "[framer]") {
  const std::string body = kAdded + "\n" + kBookmark + "\n";
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    EventFramer framer(1 << 20);
    auto events = feed_all(framer, {body.substr(0, cut), body.substr(cut)});
    INFO("cut at " << cut);
    REQUIRE(events == std::vector<std::string>{kAdded, kBookmark});
    REQUIRE_FALSE(framer.in_event());
  }
}

TEST_CASE("several events in one chunk, with or without newlines, all come out", "[framer]") {
  EventFramer framer(1 << 20);
  auto events = feed_all(framer, {kAdded + kBookmark + "\r\n  " + kAdded});
  REQUIRE(events == std::vector<std::string>{kAdded, kBookmark, kAdded});
}

TEST_CASE("a byte-by-byte stream decodes the same", "[framer]") {
  EventFramer framer(1 << 20);
  std::vector<std::string> chunks;
  for (char c : kAdded + kBookmark) chunks.emplace_back(1, c);
  REQUIRE(feed_all(framer, chunks) == std::vector<std::string>{kAdded, kBookmark});
}

TEST_CASE("an event larger than the cap is refused and memory stays bounded", "[framer]") {
  EventFramer framer(64);
  EventFramer::Result result{};
  std::vector<std::string> chunks = {"{\"type\":\"ADDED\",\"object\":{\"data\":\""};
  for (int i = 0; i < 100; ++i) chunks.push_back(std::string(10, 'x'));
  auto events = feed_all(framer, chunks, &result);
  REQUIRE(events.empty());
  REQUIRE(result == EventFramer::Result::kOversize);
  framer.reset();
  REQUIRE(feed_all(framer, {kBookmark.substr(0, 10), kBookmark.substr(10)}).empty());  // 66 bytes > 64
}

TEST_CASE("text that is not a JSON object between events is refused", "[framer]") {
  EventFramer framer(1 << 20);
  EventFramer::Result result{};
  auto events = feed_all(framer, {kBookmark + "\nnot json\n"}, &result);
  REQUIRE(events == std::vector<std::string>{kBookmark});
  REQUIRE(result == EventFramer::Result::kGarbage);
}

TEST_CASE("a partial event is remembered until its end arrives", "[framer]") {
  EventFramer framer(1 << 20);
  REQUIRE(feed_all(framer, {kAdded.substr(0, 30)}).empty());
  REQUIRE(framer.in_event());
  REQUIRE(feed_all(framer, {kAdded.substr(30)}) == std::vector<std::string>{kAdded});
}
