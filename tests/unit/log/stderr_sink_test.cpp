#include <memory>
#include <string>
#include <string_view>

#include <doctest/doctest.h>
#include <spdlog/logger.h>

#include "log/stderr_sink.hpp"
#include "log_test_support.hpp"

using pb::log::StderrSink;
using pb::log::StderrStyle;

namespace {

std::shared_ptr<spdlog::logger> logger_to(int fd, StderrStyle style, bool colour = false) {
  auto l =
      std::make_shared<spdlog::logger>("beed", std::make_shared<StderrSink>(style, fd, colour));
  l->set_level(spdlog::level::trace);
  return l;
}

// "2024-05-01 12:00:00.123 " (std::regex is avoided: g++ 12 warns inside it
// under the sanitizers).
bool starts_with_timestamp(std::string_view line) {
  constexpr std::string_view shape = "dddd-dd-dd dd:dd:dd.ddd ";
  if (line.size() < shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const bool digit = line[i] >= '0' && line[i] <= '9';
    if (shape[i] == 'd' ? !digit : line[i] != shape[i]) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("prefixed style: one <N> prefix per line") {
  pb::test::Pipe out;
  auto logger = logger_to(out.write_end(), StderrStyle::prefixed);
  logger->info("acme-shop: run 12 ok");
  logger->trace("t");
  logger->debug("d");
  logger->warn("w");
  logger->error("e");
  logger->critical("c");
  logger->error("two\nlines");
  CHECK(out.drain() == "<6>acme-shop: run 12 ok\n<7>t\n<7>d\n<4>w\n<3>e\n<2>c\n<3>two\n<3>lines\n");
}

TEST_CASE("terminal style: timestamp, level, message") {
  pb::test::Pipe out;
  auto logger = logger_to(out.write_end(), StderrStyle::terminal);
  logger->info("hello");
  logger->warn("careful");
  const std::string text = out.drain();
  const auto newline = text.find('\n');
  REQUIRE(newline != std::string::npos);
  const std::string_view first = std::string_view(text).substr(0, newline + 1);
  const std::string_view second = std::string_view(text).substr(newline + 1);
  CHECK(starts_with_timestamp(first));
  CHECK(first.substr(24) == "info  hello\n");
  CHECK(starts_with_timestamp(second));
  CHECK(second.substr(24) == "warning careful\n");
}

TEST_CASE("terminal style with colour wraps the level") {
  pb::test::Pipe out;
  auto logger = logger_to(out.write_end(), StderrStyle::terminal, true);
  logger->error("bad");
  const std::string text = out.drain();
  CHECK_MESSAGE(text.find(" \033[31m\033[1merror\033[m bad\n") != std::string::npos, text);
}

TEST_CASE("append_prefixed") {
  std::string out;
  pb::log::append_prefixed(out, 6, "");
  pb::log::append_prefixed(out, 3, "a\n");
  pb::log::append_prefixed(out, 4, "b\n\nc");
  CHECK(out == "<6>\n<3>a\n<4>b\n<4>\n<4>c\n");
}
