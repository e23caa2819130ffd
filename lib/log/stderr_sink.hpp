// beed's log lines on stderr when the native journal protocol is not in use:
// "<N>" syslog-priority prefixes (sd-daemon.h style) for a pipe or file, or
// timestamped, optionally coloured text for a person at a terminal.
#pragma once

#include <unistd.h>

#include <mutex>
#include <string>
#include <string_view>

#include <spdlog/sinks/base_sink.h>

namespace pb::log {

enum class StderrStyle {
  // "<6>acme-shop: run 12 ok ...": journald (via a stream), syslog-style
  // collectors and `systemd-cat` read the priority from the prefix and stamp
  // the time themselves.
  prefixed,
  // "2024-05-01 12:00:00.123 info  acme-shop: run 12 ok ...".
  terminal,
};

// Writes straight to a file descriptor, one write(2) per line and no stdio
// buffer: lines are never lost in a buffer on a crash, and lines from
// several threads never interleave mid-line. Never throws out of a log call.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // `colour` applies to the terminal style only; the caller decides (isatty,
  // NO_COLOR) so that tests can write to a pipe.
  explicit StderrSink(StderrStyle style, int fd = STDERR_FILENO, bool colour = false);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  StderrStyle style_;
  int fd_;
  bool colour_;
  std::string line_;  // reused between calls
};

// Appends `text` with "<priority>" before each of its lines and a newline
// after the last (a trailing newline in `text` is that one): a continuation line without its own
// prefix would be read as priority 6 by journald.
void append_prefixed(std::string& out, int priority, std::string_view text);

// The last resort for the sinks and the log calls: no exceptions, best
// effort, retries on EINTR and short writes, gives up on any other error.
void write_all(int fd, std::string_view data) noexcept;
// `text` as append_prefixed() makes it, or as plain lines once
// set_fallback_prefix(false) (setup() on a terminal: "<3>" is for journald
// and syslog-style readers, not for a person).
void write_prefixed(int fd, int priority, std::string_view text) noexcept;
// Whether write_prefixed() puts "<N>" before each line; true until changed.
void set_fallback_prefix(bool prefix) noexcept;

}  // namespace pb::log
