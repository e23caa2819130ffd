#include "cli/beectl_main.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_line.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "cli/paged_output.hpp"
#include "cli/progress.hpp"
#include "control/client.hpp"

namespace pb::cli {
namespace {

using control::Status;

bool wants_wait(const control::Request& request) {
  const boost::json::value* wait = request.args.if_contains("wait");
  return wait != nullptr && wait->is_bool() && wait->get_bool();
}

// inventory and diff: a listing longer than one page comes as a stream of pages, printed as they
// arrive; a shorter one is a single reply, as ever (and as beed before streams gives it).
bool wants_stream(const Invocation& inv) {
  const auto id = inv.command->id;
  if (id != control::CommandId::inventory && id != control::CommandId::diff) return false;
  const boost::json::value* limit = inv.request.args.if_contains("limit");
  if (limit == nullptr) return false;  // beed's default, one page
  const auto n = limit->to_number<std::uint64_t>();
  return n == 0 || n > control::kReplyPageItems;
}

int run(const Invocation& invocation, const Terminal& terminal, std::ostream& out,
        std::ostream& err) {
  Invocation inv = invocation;
  if (wants_stream(inv)) inv.request.args["stream"] = true;
  PagedOutput pages(inv.command->id, inv.json);
  const bool wait = wants_wait(inv.request);
  const bool bar = terminal.is_tty;
  ProgressPrinter lines;
  ProgressBar progress_bar(terminal.columns);
  // Ends the progress line being redrawn, before anything else is printed.
  const auto end_progress = [&] {
    if (bar) out << progress_bar.finish() << std::flush;
  };
  control::Reply reply;
  try {
    control::Client client;
    client.connect(inv.socket);
    reply = client.call(inv.request, [&](const control::Event& event) {
      if (std::optional<std::string> page = pages.page(event)) {
        out << *page << std::flush;
        return;
      }
      if (inv.json || event.name != "progress") return;
      // Flushed per write: under systemd stdout is a pipe to the journal, and a
      // redrawn line must show at once.
      if (bar)
        out << progress_bar.update(event.data) << std::flush;
      else if (std::optional<std::string> line = lines.line(event.data))
        out << *line << std::flush;
    });
  } catch (const control::ClientError& e) {
    end_progress();
    err << "beectl: " << e.what() << "\n";
    return to_int(e.kind() == control::ClientError::Kind::permission_denied
                      ? ExitCode::permission_denied
                      : ExitCode::unreachable);
  } catch (...) {
    end_progress();
    throw;
  }
  end_progress();

  if (reply.status != Status::ok) {
    if (inv.json) {
      boost::json::object o;
      o["status"] = control::to_string(reply.status);
      o["code"] = static_cast<int>(reply.status);
      o["error"] = reply.error;
      out << format_json(o);
    }
    err << "beectl: "
        << (reply.error.empty() ? std::string(control::to_string(reply.status)) : reply.error)
        << "\n";
    return to_int(exit_code_for(reply.status));
  }

  if (pages.started())
    out << pages.finish(reply.data);
  else
    out << (inv.json ? format_json(reply.data) : format_reply(inv.command->id, wait, reply.data));
  if (!wait) return to_int(ExitCode::ok);
  const ExitCode code = exit_code_for_run(reply.data);
  if (code == ExitCode::daemon_error) err << "beectl: the run's record has no final result\n";
  return to_int(code);
}

}  // namespace

Terminal detect_terminal() {
  Terminal t;
  const char* term = std::getenv("TERM");
  // A dumb terminal has no "clear to end of line".
  t.is_tty = ::isatty(STDOUT_FILENO) == 1 && !(term != nullptr && std::strcmp(term, "dumb") == 0);
  winsize size{};
  if (t.is_tty && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    t.columns = size.ws_col;
  return t;
}

int run_beectl(std::span<const std::string> args, const char* socket_env, std::ostream& out,
               std::ostream& err, const Terminal& terminal) {
  Invocation inv;
  try {
    inv = parse_command_line(args, socket_env);
  } catch (const UsageError& e) {
    err << "beectl: " << e.what() << "\nsee " << e.help_hint() << "\n";
    return to_int(ExitCode::usage);
  }
  switch (inv.action) {
    case Invocation::Action::help:
      out << global_help();
      return to_int(ExitCode::ok);
    case Invocation::Action::command_help:
      out << command_help(*inv.command);
      return to_int(ExitCode::ok);
    case Invocation::Action::version:
      out << "beectl " << version() << " (control protocol " << control::kProtocolVersion << ")\n";
      return to_int(ExitCode::ok);
    case Invocation::Action::run:
      break;
  }
  try {
    return run(inv, terminal, out, err);
  } catch (const std::exception& e) {
    err << "beectl: " << e.what() << "\n";
    return to_int(ExitCode::daemon_error);
  }
}

int beectl_main(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return run_beectl(args, std::getenv(kSocketEnv), std::cout, std::cerr, detect_terminal());
}

}  // namespace pb::cli
