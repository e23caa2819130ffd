// Sets up beed's logging at start: where lines go (the journal's native
// socket, "<N>"-prefixed stderr or terminal text) and the level, as spdlog's
// default logger that pb::log and plain spdlog:: calls both write through.
#pragma once

#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <spdlog/logger.h>

#include "log/journal_sink.hpp"

namespace pb::log {

enum class Mode {
  journal,   // native protocol to the journal socket, with fields
  prefixed,  // "<N>message" lines on stderr
  terminal,  // timestamped text on stderr, coloured unless NO_COLOR is set
};

std::string_view to_string(Mode mode);

// Whether `journal_stream` (JOURNAL_STREAM's "DEV:INODE") names the file `fd`
// is open on. systemd sets the variable when it connects stderr to the
// journal; comparing with fstat() tells a child that inherited the variable
// but had its stderr redirected (beed ... 2>file) from beed under systemd.
bool is_journal_stream(const char* journal_stream, int fd);

// The choice detect_mode() makes, from what it found: the journal when
// stderr is the journal's stream (JOURNAL_STREAM matches), plain text for a
// person at a terminal, and "<N>" prefixes only for a pipe or file, where
// systemd-cat, syslog-style collectors or a log file's reader expect them.
Mode choose_mode(bool journal_stream, bool tty);

// choose_mode(JOURNAL_STREAM names `fd`, `fd` is a tty).
Mode detect_mode(int fd = STDERR_FILENO);

struct SetupOptions {
  std::optional<Mode> mode{};  // forced (tests, a --log-target option); else detect_mode(stderr_fd)
  std::string journal_socket = std::string(kJournalSocket);
  int stderr_fd = STDERR_FILENO;  // the stderr modes and the journal fallback write here
};

// A synchronous logger named `identifier` (also SYSLOG_IDENTIFIER=) at
// `level`, not registered anywhere.
std::shared_ptr<spdlog::logger> make_logger(std::string_view identifier,
                                            spdlog::level::level_enum level,
                                            const SetupOptions& options = {});

// make_logger(), installed as spdlog's default logger; returns it. Also
// tells the last-resort writers (write_prefixed) whether to prefix: not in
// terminal mode. Safe to call again (a reload, tests): the new logger
// replaces the old one.
std::shared_ptr<spdlog::logger> setup(std::string_view identifier, spdlog::level::level_enum level,
                                      const SetupOptions& options = {});

}  // namespace pb::log
