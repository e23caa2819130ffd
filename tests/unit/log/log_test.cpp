#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "../sys/datagram_receiver.hpp"
#include "../temp_dir.hpp"
#include "log/log.hpp"
#include "log/setup.hpp"
#include "log_test_support.hpp"

using pb::test::JournalFields;
using pb::test::parse_journal_entry;

namespace {

// Counts how often it is formatted, to show that filtered lines are not.
struct Counted {
  int* count;
};

struct LogFixture {
  pb::test::DefaultLoggerGuard guard;
  pb::test::TempDir dir;
  std::string path = (dir / "journal").string();
  pb::test::DatagramReceiver journal{path};
  pb::test::Pipe fallback;
  std::string pid = std::to_string(getpid());

  LogFixture() {
    pb::log::setup("beed", spdlog::level::info,
                   {.mode = pb::log::Mode::journal,
                    .journal_socket = path,
                    .stderr_fd = fallback.write_end()});
  }

  JournalFields receive() {
    auto d = journal.receive();
    REQUIRE(d.has_value());
    return parse_journal_entry(d->data);
  }
};

}  // namespace

template <>
struct fmt::formatter<Counted> : fmt::formatter<std::string_view> {
  auto format(const Counted& c, fmt::format_context& ctx) const {
    ++*c.count;
    return fmt::formatter<std::string_view>::format("counted", ctx);
  }
};

TEST_CASE_FIXTURE(LogFixture, "pb::log::info with fields: exact journal entry") {
  const std::string name = "acme-shop";
  pb::log::info({.connection = name, .sync = "full", .run = 12}, "run {} started: {} sync", 12,
                "full");
  CHECK(receive() == JournalFields{{"MESSAGE", "acme-shop: run 12 started: full sync"},
                                   {"PRIORITY", "6"},
                                   {"SYSLOG_IDENTIFIER", "beed"},
                                   {"SYSLOG_PID", pid},
                                   {"CONNECTION", "acme-shop"},
                                   {"SYNC", "full"},
                                   {"RUN", "12"}});
}

TEST_CASE_FIXTURE(LogFixture, "each level, with and without fields") {
  const pb::log::Fields fields{.run = 5};
  pb::log::warn(fields, "w");
  pb::log::error(fields, "e");
  pb::log::critical(fields, "c");
  pb::log::warn("w");
  pb::log::error("e {}", 1);
  pb::log::critical("c");
  pb::log::log(spdlog::level::err, fields, "l");
  pb::log::log(spdlog::level::warn, "l");
  const std::pair<std::string, std::size_t> expected[] = {
      {"4", 5}, {"3", 5}, {"2", 5}, {"4", 4}, {"3", 4}, {"2", 4}, {"3", 5}, {"4", 4},
  };
  for (const auto& [priority, size] : expected) {
    const auto entry = receive();
    CHECK(entry[1].second == priority);
    CHECK(entry.size() == size);
  }
}

TEST_CASE_FIXTURE(LogFixture, "fields end with their call: a plain spdlog line has none") {
  pb::log::info({.connection = "acme-shop", .run = 1}, "one");
  spdlog::info("two");
  pb::log::info("three");
  CHECK(receive().size() == 6);
  CHECK(receive() == JournalFields{{"MESSAGE", "two"},
                                   {"PRIORITY", "6"},
                                   {"SYSLOG_IDENTIFIER", "beed"},
                                   {"SYSLOG_PID", pid}});
  CHECK(receive().size() == 4);
  CHECK(pb::log::current_fields() == nullptr);
}

TEST_CASE_FIXTURE(LogFixture, "filtered lines are neither formatted nor sent") {
  int count = 0;
  pb::log::debug({.connection = "acme-shop"}, "{}", Counted{&count});
  pb::log::trace("{}", Counted{&count});
  CHECK(count == 0);
  pb::log::info("{}", Counted{&count});
  CHECK(count == 1);
  CHECK(receive()[0].second == "counted");
  CHECK_FALSE(journal.receive(50).has_value());
}

TEST_CASE_FIXTURE(LogFixture, "braces in field values and arguments are not formatted again") {
  pb::log::info({.connection = "shop{}"}, "{}", "{0}");
  CHECK(receive()[0].second == "shop{}: {0}");
}

TEST_CASE_FIXTURE(LogFixture, "threads logging at once never see each other's fields") {
  constexpr int kThreads = 4;
  constexpr int kLines = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      const std::string name = "shop-" + std::to_string(t);
      for (int i = 1; i <= kLines; ++i)
        pb::log::info({.connection = name, .run = static_cast<std::uint64_t>(i)}, "run {}", i);
    });
  }
  // Read while they write: a datagram socket's queue is short and the
  // senders block on it.
  for (int n = 0; n < kThreads * kLines; ++n) {
    const auto entry = receive();
    REQUIRE(entry.size() == 6);
    CHECK(entry[0].second == entry[4].second + ": run " + entry[5].second);
  }
  for (auto& thread : threads) thread.join();
  CHECK(fallback.drain().empty());
}
