#include "log/setup.hpp"

#include <stdlib.h>
#include <sys/stat.h>

#include <charconv>
#include <cstdint>
#include <cstring>

#include <spdlog/spdlog.h>

#include "log/stderr_sink.hpp"

namespace pb::log {

namespace {

bool parse_number(std::string_view text, std::uintmax_t& value) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && ptr == text.data() + text.size() && !text.empty();
}

}  // namespace

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::journal:
      return "journal";
    case Mode::prefixed:
      return "prefixed";
    case Mode::terminal:
      return "terminal";
  }
  return "unknown";
}

bool is_journal_stream(const char* journal_stream, int fd) {
  if (journal_stream == nullptr) return false;
  const std::string_view text(journal_stream);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  std::uintmax_t dev = 0;
  std::uintmax_t ino = 0;
  if (!parse_number(text.substr(0, colon), dev) || !parse_number(text.substr(colon + 1), ino))
    return false;
  struct stat st {};
  if (::fstat(fd, &st) < 0) return false;
  return static_cast<std::uintmax_t>(st.st_dev) == dev &&
         static_cast<std::uintmax_t>(st.st_ino) == ino;
}

Mode choose_mode(bool journal_stream, bool tty) {
  if (journal_stream) return Mode::journal;
  return tty ? Mode::terminal : Mode::prefixed;
}

Mode detect_mode(int fd) {
  return choose_mode(is_journal_stream(getenv("JOURNAL_STREAM"), fd), ::isatty(fd) == 1);
}

std::shared_ptr<spdlog::logger> make_logger(std::string_view identifier,
                                            spdlog::level::level_enum level,
                                            const SetupOptions& options) {
  const Mode mode = options.mode.value_or(detect_mode(options.stderr_fd));
  spdlog::sink_ptr sink;
  switch (mode) {
    case Mode::journal:
      sink = std::make_shared<JournalSink>(std::string(identifier), options.journal_socket,
                                           options.stderr_fd);
      break;
    case Mode::prefixed:
      sink = std::make_shared<StderrSink>(StderrStyle::prefixed, options.stderr_fd);
      break;
    case Mode::terminal: {
      // https://no-color.org: set and not empty means no colours.
      const char* no_color = getenv("NO_COLOR");
      const bool colour = ::isatty(options.stderr_fd) && (no_color == nullptr || *no_color == '\0');
      sink = std::make_shared<StderrSink>(StderrStyle::terminal, options.stderr_fd, colour);
      break;
    }
  }
  auto logger = std::make_shared<spdlog::logger>(std::string(identifier), std::move(sink));
  logger->set_level(level);
  // The sinks write each line with its own write(2) or sendmsg(2); there is
  // no buffer to flush, so flush_on would only add a virtual call.
  return logger;
}

std::shared_ptr<spdlog::logger> setup(std::string_view identifier, spdlog::level::level_enum level,
                                      const SetupOptions& options) {
  const Mode mode = options.mode.value_or(detect_mode(options.stderr_fd));
  SetupOptions decided = options;
  decided.mode = mode;
  auto logger = make_logger(identifier, level, decided);
  set_fallback_prefix(mode != Mode::terminal);
  spdlog::set_default_logger(logger);
  return logger;
}

}  // namespace pb::log
