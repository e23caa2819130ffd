#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include "../sys/datagram_receiver.hpp"
#include "../temp_dir.hpp"
#include "log/log.hpp"
#include "log/setup.hpp"
#include "log/stderr_sink.hpp"
#include "log_test_support.hpp"

using pb::log::Mode;
using pb::test::ScopedEnv;

namespace {

// A log argument whose formatting fails, to reach pb::log's last resort.
struct Unprintable {};

}  // namespace

template <>
struct fmt::formatter<Unprintable> : fmt::formatter<std::string_view> {
  auto format(const Unprintable&, fmt::format_context&) const -> fmt::format_context::iterator {
    throw std::runtime_error("nope");
  }
};

namespace {

// Points fd 2 at `fd` for one scope: pb::log's last resort writes there.
class StderrTo {
 public:
  explicit StderrTo(int fd) : saved_(::dup(STDERR_FILENO)) { ::dup2(fd, STDERR_FILENO); }
  ~StderrTo() {
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    pb::log::set_fallback_prefix(true);
  }
  StderrTo(const StderrTo&) = delete;
  StderrTo& operator=(const StderrTo&) = delete;

 private:
  int saved_;
};

std::string dev_ino(int fd, std::uintmax_t ino_offset = 0) {
  struct stat st {};
  REQUIRE(fstat(fd, &st) == 0);
  return std::to_string(static_cast<std::uintmax_t>(st.st_dev)) + ":" +
         std::to_string(static_cast<std::uintmax_t>(st.st_ino) + ino_offset);
}

}  // namespace

TEST_CASE("is_journal_stream compares JOURNAL_STREAM with the fd's dev:ino") {
  pb::test::Pipe pipe;
  const int fd = pipe.write_end();
  CHECK(pb::log::is_journal_stream(dev_ino(fd).c_str(), fd));
  CHECK_FALSE(pb::log::is_journal_stream(dev_ino(fd, 1).c_str(), fd));
  CHECK_FALSE(pb::log::is_journal_stream(nullptr, fd));
  CHECK_FALSE(pb::log::is_journal_stream("", fd));
  CHECK_FALSE(pb::log::is_journal_stream("12", fd));
  CHECK_FALSE(pb::log::is_journal_stream(":", fd));
  CHECK_FALSE(pb::log::is_journal_stream((dev_ino(fd) + "x").c_str(), fd));
  CHECK_FALSE(pb::log::is_journal_stream(dev_ino(fd).c_str(), -1));
}

TEST_CASE("detect_mode: journal only when JOURNAL_STREAM names this very pipe") {
  pb::test::Pipe pipe;
  pb::test::Pipe other;
  const int fd = pipe.write_end();
  {
    ScopedEnv env("JOURNAL_STREAM", dev_ino(fd).c_str());
    CHECK(pb::log::detect_mode(fd) == Mode::journal);
  }
  {
    // Inherited from a parent under systemd, but stderr now goes elsewhere.
    ScopedEnv env("JOURNAL_STREAM", dev_ino(other.write_end()).c_str());
    CHECK(pb::log::detect_mode(fd) == Mode::prefixed);
  }
  {
    ScopedEnv env("JOURNAL_STREAM", nullptr);
    CHECK(pb::log::detect_mode(fd) == Mode::prefixed);
  }
}

TEST_CASE("to_string(Mode)") {
  CHECK(pb::log::to_string(Mode::journal) == "journal");
  CHECK(pb::log::to_string(Mode::prefixed) == "prefixed");
  CHECK(pb::log::to_string(Mode::terminal) == "terminal");
}

TEST_CASE("setup installs the default logger at the level asked for") {
  pb::test::DefaultLoggerGuard guard;
  pb::test::Pipe out;
  const auto logger = pb::log::setup("beed", spdlog::level::info,
                                     {.mode = Mode::prefixed, .stderr_fd = out.write_end()});
  CHECK(spdlog::default_logger() == logger);
  CHECK(logger->name() == "beed");
  spdlog::info("plain spdlog {}", 1);
  spdlog::debug("filtered");
  pb::log::info({.connection = "acme-shop"}, "run {} ok", 12);
  pb::log::debug("filtered too");
  CHECK(out.drain() == "<6>plain spdlog 1\n<6>acme-shop: run 12 ok\n");
}

TEST_CASE("setup picks the journal from a matching JOURNAL_STREAM") {
  pb::test::DefaultLoggerGuard guard;
  pb::test::TempDir dir;
  const std::string path = (dir / "journal").string();
  pb::test::DatagramReceiver journal(path);
  pb::test::Pipe out;
  ScopedEnv env("JOURNAL_STREAM", dev_ino(out.write_end()).c_str());
  pb::log::setup("beed", spdlog::level::info,
                 {.journal_socket = path, .stderr_fd = out.write_end()});
  pb::log::warn({.connection = "acme-shop", .sync = "smart", .run = 3}, "slow");
  auto d = journal.receive();
  REQUIRE(d.has_value());
  const auto fields = pb::test::parse_journal_entry(d->data);
  REQUIRE(fields.size() == 7);
  CHECK(fields[0].second == "acme-shop: slow");
  CHECK(fields[4].second == "acme-shop");
  CHECK(fields[5].second == "smart");
  CHECK(fields[6].second == "3");
  CHECK(out.drain().empty());
}

TEST_CASE("setup in terminal mode on a pipe writes text without colour") {
  pb::test::DefaultLoggerGuard guard;
  pb::test::Pipe out;
  pb::log::setup("beed", spdlog::level::trace,
                 {.mode = Mode::terminal, .stderr_fd = out.write_end()});
  pb::log::error("bad {}", "thing");
  const std::string text = out.drain();
  CHECK(text.find("\033[") == std::string::npos);
  CHECK(text.find(" error bad thing\n") != std::string::npos);
}

TEST_CASE("choose_mode: the journal's stream, else text on a tty, else <N> prefixes") {
  CHECK(pb::log::choose_mode(true, false) == Mode::journal);
  CHECK(pb::log::choose_mode(true, true) == Mode::journal);
  CHECK(pb::log::choose_mode(false, true) == Mode::terminal);
  CHECK(pb::log::choose_mode(false, false) == Mode::prefixed);
}

TEST_CASE("detect_mode on a pseudo-terminal is terminal, even with a stale JOURNAL_STREAM") {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  REQUIRE(master >= 0);
  REQUIRE(::grantpt(master) == 0);
  REQUIRE(::unlockpt(master) == 0);
  const int tty = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  REQUIRE(tty >= 0);
  pb::test::Pipe other;
  {
    ScopedEnv env("JOURNAL_STREAM", dev_ino(other.write_end()).c_str());
    CHECK(pb::log::detect_mode(tty) == Mode::terminal);
  }
  CHECK(pb::log::detect_mode(tty) == Mode::terminal);
  ::close(tty);
  ::close(master);
}

TEST_CASE("on a terminal even the last-resort lines carry no <N> prefix") {
  pb::test::DefaultLoggerGuard guard;
  pb::test::Pipe out;
  StderrTo redirect(out.write_end());
  pb::log::setup("beed", spdlog::level::info,
                 {.mode = Mode::terminal, .stderr_fd = out.write_end()});
  pb::log::info("a {}", Unprintable{});
  CHECK(out.drain() == "cannot write a log line: nope\n");

  // A pipe or file keeps them: journald and collectors read the priority.
  pb::log::setup("beed", spdlog::level::info,
                 {.mode = Mode::prefixed, .stderr_fd = out.write_end()});
  pb::log::info("a {}", Unprintable{});
  CHECK(out.drain() == "<3>cannot write a log line: nope\n");
}
