// Sends beed's log lines to journald over its native protocol, with fields
// (CONNECTION=, SYNC=, RUN=) that spdlog 1.10's systemd_sink cannot add.
// See systemd's docs/JOURNAL_NATIVE_PROTOCOL.md.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <string_view>

#include <spdlog/sinks/base_sink.h>

#include "log/fields.hpp"

namespace pb::log {

inline constexpr std::string_view kJournalSocket = "/run/systemd/journal/socket";

// Appends one field in the native protocol's form: "KEY=value\n", or, when
// the value holds a newline, "KEY\n", its length as a little-endian 64-bit
// integer, the value and "\n".
void append_journal_field(std::string& entry, std::string_view key, std::string_view value);

// One journal entry: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, SYSLOG_PID, then
// CONNECTION, SYNC and RUN when `fields` sets them.
void append_journal_entry(std::string& entry, std::string_view message, int priority,
                          std::string_view identifier, pid_t pid, const Fields* fields);

// Written by hand rather than over sd_journal_sendv so that the socket path
// can be pointed at a test's socket, and so that a failure falls back to
// stderr instead of throwing or vanishing (spdlog's systemd_sink throws).
//
// Each entry is one datagram. One too large for the socket (EMSGSIZE, or
// ENOBUFS / ENOMEM) goes, as in sd_journal_sendv, in a sealed memfd passed
// with SCM_RIGHTS. When neither works (no journald, socket gone) the line is
// written to `fallback_fd` with a "<N>" prefix; under systemd that is the
// journal stream on stderr, so the line still arrives, only without fields.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JournalSink(std::string identifier = "beed",
                       std::string socket_path = std::string(kJournalSocket),
                       int fallback_fd = STDERR_FILENO);
  ~JournalSink() override;
  JournalSink(const JournalSink&) = delete;
  JournalSink& operator=(const JournalSink&) = delete;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  // errno of the failure, 0 once sent.
  int send_datagram() noexcept;
  int send_memfd() noexcept;
  int send_message(msghdr& mh) noexcept;
  void fall_back(int priority, std::string_view message, int error) noexcept;

  std::string identifier_;
  std::string socket_path_;
  int fallback_fd_;
  int socket_ = -1;
  // beed does not fork after setting up logging; a child that did would
  // report its parent's pid here (journald's own _PID= would still be right).
  pid_t pid_;
  bool failing_ = false;  // said once per outage, not once per line
  std::string entry_;     // reused between calls
};

}  // namespace pb::log
