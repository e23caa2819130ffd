// beectl's exit statuses: what scripts and systemd units see. Listed once here
// for the code, `beectl --help` and docs/CONTROL-PROTOCOL.md.
#pragma once

#include <array>
#include <string_view>

#include "control/message.hpp"

namespace pb::cli {

enum class ExitCode : int {
  ok = 0,
  daemon_error = 1,
  usage = 2,
  run_partial = 3,
  run_failed = 4,
  unreachable = 5,
  permission_denied = 6,
};

struct ExitCodeDoc {
  ExitCode code;
  std::string_view meaning;
};

inline constexpr std::array<ExitCodeDoc, 7> kExitCodes{{
    {ExitCode::ok, "success (with --wait: the run finished ok)"},
    {ExitCode::daemon_error, "beed answered with an error"},
    {ExitCode::usage, "usage error"},
    {ExitCode::run_partial, "--wait: the run finished partial (some SKUs were rejected)"},
    {ExitCode::run_failed, "--wait: the run failed"},
    // "refused" covers a `busy` reply (too many connections) too: see exit_code_for().
    {ExitCode::unreachable, "cannot reach beed (no socket, refused, timeout, protocol error)"},
    {ExitCode::permission_denied, "permission denied (socket access, or a mutating command)"},
}};

constexpr int to_int(ExitCode c) {
  return static_cast<int>(c);
}

// The exit status for a reply other than ok. `busy` is 5, as a connect() that
// finds the listen queue full: the request never reached a handler and the
// same command may work a moment later. A refused reload (invalid_config) and
// shutting_down stay 1, as documented before they had statuses of their own.
constexpr ExitCode exit_code_for(control::Status s) {
  switch (s) {
    case control::Status::ok:
      return ExitCode::ok;
    case control::Status::permission_denied:
      return ExitCode::permission_denied;
    case control::Status::busy:
      return ExitCode::unreachable;
    default:
      return ExitCode::daemon_error;
  }
}

}  // namespace pb::cli
