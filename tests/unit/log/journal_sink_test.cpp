#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <string>

#include <doctest/doctest.h>
#include <spdlog/logger.h>

#include "../sys/datagram_receiver.hpp"
#include "../temp_dir.hpp"
#include "log/journal_sink.hpp"
#include "log_test_support.hpp"

using pb::log::Fields;
using pb::log::FieldsScope;
using pb::log::JournalSink;
using pb::test::JournalFields;
using pb::test::parse_journal_entry;

namespace {

struct JournalFixture {
  pb::test::TempDir dir;
  std::string path = (dir / "journal").string();
  pb::test::DatagramReceiver journal{path};
  pb::test::Pipe fallback;
  std::shared_ptr<spdlog::logger> logger = make(path);
  std::string pid = std::to_string(getpid());

  std::shared_ptr<spdlog::logger> make(const std::string& socket_path) const {
    auto sink = std::make_shared<JournalSink>("beed", socket_path, fallback.write_end());
    auto l = std::make_shared<spdlog::logger>("beed", std::move(sink));
    l->set_level(spdlog::level::trace);
    return l;
  }

  std::string receive_raw() {
    auto d = journal.receive();
    REQUIRE(d.has_value());
    REQUIRE(d->fds.empty());
    return d->data;
  }
};

std::string le64(std::uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i, v >>= 8U) out.push_back(static_cast<char>(v & 0xffU));
  return out;
}

}  // namespace

TEST_CASE_FIXTURE(JournalFixture, "journal entry without fields, exact bytes") {
  logger->info("hello {}", "world");
  CHECK(receive_raw() ==
        "MESSAGE=hello world\nPRIORITY=6\nSYSLOG_IDENTIFIER=beed\nSYSLOG_PID=" + pid + "\n");
  CHECK(fallback.drain().empty());
}

TEST_CASE_FIXTURE(JournalFixture, "journal entry carries CONNECTION, SYNC and RUN when set") {
  const Fields fields{.connection = "acme-shop", .sync = "full", .run = 12};
  {
    const FieldsScope scope(&fields);
    logger->warn("acme-shop: run 12 partial");
  }
  CHECK(parse_journal_entry(receive_raw()) ==
        JournalFields{{"MESSAGE", "acme-shop: run 12 partial"},
                      {"PRIORITY", "4"},
                      {"SYSLOG_IDENTIFIER", "beed"},
                      {"SYSLOG_PID", pid},
                      {"CONNECTION", "acme-shop"},
                      {"SYNC", "full"},
                      {"RUN", "12"}});

  const Fields only_sync{.sync = "smart"};
  {
    const FieldsScope scope(&only_sync);
    logger->info("x");
  }
  CHECK(parse_journal_entry(receive_raw()) == JournalFields{{"MESSAGE", "x"},
                                                            {"PRIORITY", "6"},
                                                            {"SYSLOG_IDENTIFIER", "beed"},
                                                            {"SYSLOG_PID", pid},
                                                            {"SYNC", "smart"}});
  // The scope ended: the next plain line has no fields.
  logger->info("y");
  CHECK(parse_journal_entry(receive_raw()).size() == 4);
}

TEST_CASE_FIXTURE(JournalFixture, "a message with a newline uses the binary field form") {
  logger->error("line one\nline two");
  const std::string message = "line one\nline two";
  CHECK(receive_raw() == "MESSAGE\n" + le64(message.size()) + message +
                             "\nPRIORITY=3\nSYSLOG_IDENTIFIER=beed\nSYSLOG_PID=" + pid + "\n");
}

TEST_CASE("append_journal_field: text and binary forms") {
  std::string entry;
  pb::log::append_journal_field(entry, "A", "");
  pb::log::append_journal_field(entry, "B", "x=y");
  pb::log::append_journal_field(entry, "C", "\n");
  CHECK(entry == std::string("A=\nB=x=y\nC\n\x01\0\0\0\0\0\0\0\n\n", 21));
}

TEST_CASE_FIXTURE(JournalFixture, "PRIORITY follows the spdlog level") {
  const std::pair<spdlog::level::level_enum, std::string> cases[] = {
      {spdlog::level::trace, "7"}, {spdlog::level::debug, "7"}, {spdlog::level::info, "6"},
      {spdlog::level::warn, "4"},  {spdlog::level::err, "3"},   {spdlog::level::critical, "2"},
  };
  for (const auto& [level, priority] : cases) {
    CAPTURE(priority);
    logger->log(level, "m");
    const auto fields = parse_journal_entry(receive_raw());
    REQUIRE(fields.size() == 4);
    CHECK(fields[1] == std::pair<std::string, std::string>{"PRIORITY", priority});
  }
}

TEST_CASE_FIXTURE(JournalFixture, "an entry too large for a datagram goes in a sealed memfd") {
  const std::string big(2 << 20, 'x');
  logger->info(big);
  auto d = journal.receive();
  REQUIRE(d.has_value());
  CHECK(d->data.empty());
  REQUIRE(d->fds.size() == 1);
  const int fd = d->fds[0];
  const int seals = fcntl(fd, F_GET_SEALS);
  CHECK((seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) ==
        (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL));
  std::string content;
  char buf[65536];
  ssize_t n;
  off_t offset = 0;
  while ((n = pread(fd, buf, sizeof buf, offset)) > 0) {
    content.append(buf, static_cast<std::size_t>(n));
    offset += n;
  }
  close(fd);
  const auto fields = parse_journal_entry(content);
  REQUIRE(fields.size() == 4);
  CHECK(fields[0].first == "MESSAGE");
  CHECK(fields[0].second == big);
  CHECK(fallback.drain().empty());
}

TEST_CASE_FIXTURE(JournalFixture, "without a journal the lines go to stderr, and never throw") {
  const std::string absent = (dir / "absent").string();
  auto orphan = make(absent);
  CHECK_NOTHROW(orphan->error("first\nsecond"));
  CHECK_NOTHROW(orphan->info("third"));
  CHECK(fallback.drain() == "<4>cannot send to the journal socket " + absent +
                                ": No such file or directory; log lines go to stderr without "
                                "their fields\n<3>first\n<3>second\n<6>third\n");

  // journald comes back: lines go to it again, and stderr says so once.
  pb::test::DatagramReceiver revived(absent);
  orphan->info("fourth");
  auto d = revived.receive();
  REQUIRE(d.has_value());
  CHECK(parse_journal_entry(d->data)[0].second == "fourth");
  CHECK(fallback.drain() == "<5>journal socket is back; log lines go to the journal again\n");
}
