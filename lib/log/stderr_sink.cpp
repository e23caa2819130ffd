#include "log/stderr_sink.hpp"

#include <atomic>
#include <cerrno>
#include <memory>

#include <spdlog/pattern_formatter.h>

#include "log/priority.hpp"

namespace pb::log {

namespace {

// The same colours as spdlog's ansicolor sink, so a terminal looks as it did.
std::string_view colour_of(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "\033[37m";
    case spdlog::level::debug:
      return "\033[36m";
    case spdlog::level::info:
      return "\033[32m";
    case spdlog::level::warn:
      return "\033[33m\033[1m";
    case spdlog::level::err:
      return "\033[31m\033[1m";
    case spdlog::level::critical:
      return "\033[1m\033[41m";
    case spdlog::level::off:
    case spdlog::level::n_levels:
      break;
  }
  return {};
}

constexpr std::string_view kReset = "\033[m";

// Set once at setup, read by any thread that logs.
std::atomic<bool> fallback_prefix{true};

void write_plain(int fd, std::string_view text) noexcept {
  write_all(fd, text);
  if (text.empty() || text.back() != '\n') write_all(fd, "\n");
}

}  // namespace

void set_fallback_prefix(bool prefix) noexcept {
  fallback_prefix.store(prefix, std::memory_order_relaxed);
}

void append_prefixed(std::string& out, int priority, std::string_view text) {
  // A trailing newline ends the last line rather than starting an empty one.
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  const char prefix[3] = {'<', static_cast<char>('0' + (priority & 7)), '>'};
  for (;;) {
    const auto end = text.find('\n');
    out.append(prefix, sizeof prefix);
    out.append(text.substr(0, end));
    out.push_back('\n');
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

void write_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void write_prefixed(int fd, int priority, std::string_view text) noexcept {
  if (!fallback_prefix.load(std::memory_order_relaxed)) {
    write_plain(fd, text);
    return;
  }
  try {
    std::string line;
    append_prefixed(line, priority, text);
    write_all(fd, line);
  } catch (...) {
    // Out of memory: the pieces, unprefixed continuation lines and all.
    const char prefix[3] = {'<', static_cast<char>('0' + (priority & 7)), '>'};
    write_all(fd, std::string_view(prefix, sizeof prefix));
    write_all(fd, text);
    write_all(fd, "\n");
  }
}

StderrSink::StderrSink(StderrStyle style, int fd, bool colour)
    : style_(style), fd_(fd), colour_(colour) {
  formatter_ = std::make_unique<spdlog::pattern_formatter>("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v",
                                                           spdlog::pattern_time_type::local, "\n");
}

void StderrSink::sink_it_(const spdlog::details::log_msg& msg) {
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  try {
    line_.clear();
    if (style_ == StderrStyle::prefixed) {
      append_prefixed(line_, syslog_priority(msg.level), payload);
    } else {
      spdlog::memory_buf_t formatted;
      formatter_->format(msg, formatted);
      const std::string_view text(formatted.data(), formatted.size());
      if (colour_ && msg.color_range_end > msg.color_range_start) {
        line_.append(text.substr(0, msg.color_range_start));
        line_.append(colour_of(msg.level));
        line_.append(
            text.substr(msg.color_range_start, msg.color_range_end - msg.color_range_start));
        line_.append(kReset);
        line_.append(text.substr(msg.color_range_end));
      } else {
        line_.append(text);
      }
    }
    write_all(fd_, line_);
  } catch (...) {
    if (style_ == StderrStyle::terminal)
      write_plain(fd_, payload);
    else
      write_prefixed(fd_, syslog_priority(msg.level), payload);
  }
}

}  // namespace pb::log
