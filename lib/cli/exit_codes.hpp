// beectl's exit statuses: what scripts and systemd units see. Listed once here
// for the code, `beectl --help` and docs/CONTROL-PROTOCOL.md.
#pragma once

#include <array>
#include <string_view>

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
    {ExitCode::unreachable, "cannot reach beed (no socket, refused, timeout, protocol error)"},
    {ExitCode::permission_denied, "permission denied (socket access, or a mutating command)"},
}};

constexpr int to_int(ExitCode c) {
  return static_cast<int>(c);
}

}  // namespace pb::cli
