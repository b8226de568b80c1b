// A relist (bulk work nothing waits on) runs at background priority on a
// thread of its own; the watcher's thread, which applies a renewal's event
// the moment it arrives, and the first list, which the node waits for,
// keep the priority of the thread that started the watcher.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "kube/watcher.h"
#include "util/background_priority.h"
#include "util/log_queue.h"
#include "watcher_fixture.h"

using namespace certsync::testing;

namespace {

int this_thread_nice() { return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid))); }

constexpr int kUnseen = -100;

// The Secrets of "default", recording the priority of the thread each call runs on.
class PriorityRecordingKind : public certsync::kube::WatchedKind {
 public:
  const char* resource() const override { return "secrets"; }
  std::string describe() const override { return "namespace default"; }
  std::string collection_path() const override { return "/api/v1/namespaces/default/secrets"; }
  std::string selector_query() const override { return ""; }
  std::string namespace_name() const override { return "default"; }
  void list_page(std::shared_ptr<nlohmann::json>) override { page_nice[std::min(lists.load(), 1)] = this_thread_nice(); }
  std::string list_completed() override {
    completed_nice[std::min(lists.load(), 1)] = this_thread_nice();
    ++lists;
    return "";
  }
  void list_abandoned() override {}
  void apply_event(const std::string&, nlohmann::json&, const std::string&) override {
    event_nice = this_thread_nice();
    ++events;
  }

  // [0]: the first list, [1]: the relist.
  std::atomic<int> page_nice[2] = {kUnseen, kUnseen}, completed_nice[2] = {kUnseen, kUnseen};
  std::atomic<int> event_nice{kUnseen};
  std::atomic<int> lists{0}, events{0};
};

}  // namespace

TEST_CASE("a relist runs at background priority; the first list and the events at the caller's",
          "[protocol][priority]") {
  TestServerProcess server;
  const auto first = make_pair_for("first.example.test", 0);
  REQUIRE(server.put_tls_secret("default", "first", first.crt, first.key) == 201);

  auto connection = std::make_shared<certsync::kube::ConnectionConfig>();
  connection->server = server.url();
  connection->ca_file = server.ca_file();
  connection->token_file = server.token_file();
  auto owned_kind = std::make_unique<PriorityRecordingKind>();
  PriorityRecordingKind& kind = *owned_kind;
  certsync::LogQueue log;
  certsync::kube::Watcher watcher(connection, std::move(owned_kind), certsync::kube::WatchOptions{}, log);
  const auto watching = [&] { return watcher.status()["state"] == "watching"; };
  const int caller = this_thread_nice();
  watcher.start();
  REQUIRE(wait_until([&] { return kind.lists.load() == 1 && watching(); }));

  const auto renewed = make_pair_for("first.example.test", 1);
  REQUIRE(server.put_tls_secret("default", "first", renewed.crt, renewed.key) == 200);
  REQUIRE(wait_until([&] { return kind.events.load() == 1; }));

  // The reopened watch is answered 410 Gone: the watcher lists again.
  server.add_fault(R"({"verbs":["watch"],"status":410,"count":1})");
  server.close_watches();
  REQUIRE(wait_until([&] { return kind.lists.load() == 2 && watching(); }));
  watcher.stop();

  const int background = caller + certsync::util::kBackgroundNiceIncrement > 19
                             ? 19
                             : caller + certsync::util::kBackgroundNiceIncrement;
  CHECK(kind.page_nice[0].load() == caller);
  CHECK(kind.completed_nice[0].load() == caller);
  CHECK(kind.event_nice.load() == caller);
  CHECK(kind.page_nice[1].load() == background);
  CHECK(kind.completed_nice[1].load() == background);
  CHECK(this_thread_nice() == caller);
}
