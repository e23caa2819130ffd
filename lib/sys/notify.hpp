// Tells systemd about beed's lifecycle (Type=notify): ready, reloading,
// stopping, status text and watchdog pings, over libsystemd's sd_notify.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <system_error>

namespace pb::sys {

// Every call reads the environment afresh and never unsets it, so a reload or
// a test can change NOTIFY_SOCKET / WATCHDOG_USEC and beed sees the change.
// Without NOTIFY_SOCKET the calls do nothing and succeed: beed started by
// hand is not an error. A returned error is worth a log line, not an exit.
class Notifier {
 public:
  // NOTIFY_SOCKET is set (beed runs under a service manager that listens).
  bool enabled() const;

  std::error_code ready() const;
  // RELOADING=1 with MONOTONIC_USEC=: systemd 253+ (Type=notify-reload) wants
  // the timestamp to tell this reload from an earlier one; 252 ignores it.
  std::error_code reloading() const;
  std::error_code stopping() const;
  // Newlines are replaced by spaces: each line of a notification is its own
  // assignment, so a newline would end STATUS= early.
  std::error_code status(std::string_view text) const;
  std::error_code watchdog() const;

  // How often to call watchdog(): half of WATCHDOG_USEC, as sd_watchdog_enabled(3)
  // advises, or nothing when the watchdog is off or WATCHDOG_PID names another
  // process (a child that inherited the environment must not ping for us).
  std::optional<std::chrono::microseconds> watchdog_interval() const;

 private:
  std::error_code send(const char* state) const;
};

}  // namespace pb::sys
