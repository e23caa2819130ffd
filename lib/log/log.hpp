// beed's logging calls: spdlog-style formatting plus journal fields, e.g.
//   pb::log::info({.connection = name, .sync = "full", .run = id}, "run {} started", id);
// Lines go to spdlog's default logger (see log/setup.hpp), so level
// filtering and sinks are spdlog's; plain spdlog:: calls keep working, only
// without fields.
#pragma once

#include <utility>

#include <fmt/core.h>
#include <spdlog/common.h>
#include <spdlog/logger.h>
#include <spdlog/spdlog.h>

#include "log/fields.hpp"

namespace pb::log {

namespace detail {
// Formats the line, prefixes "CONNECTION: " when the connection is set (so
// the text reads the same in the journal and on a terminal, as beed's lines
// always have), and hands it to the logger with `fields` published to the
// sinks. Never throws: a failure ends up as a line on stderr.
void emit(spdlog::logger& logger, spdlog::level::level_enum level, const Fields* fields,
          fmt::string_view format, fmt::format_args args) noexcept;

inline spdlog::logger* enabled_logger(spdlog::level::level_enum level) noexcept {
  spdlog::logger* logger = spdlog::default_logger_raw();
  return logger != nullptr && logger->should_log(level) ? logger : nullptr;
}
}  // namespace detail

// Filtered lines cost a level check: nothing is formatted.
template <class... Args>
void log(spdlog::level::level_enum level, const Fields& fields, fmt::format_string<Args...> format,
         Args&&... args) {
  if (auto* logger = detail::enabled_logger(level))
    detail::emit(*logger, level, &fields, format, fmt::make_format_args(args...));
}
template <class... Args>
void log(spdlog::level::level_enum level, fmt::format_string<Args...> format, Args&&... args) {
  if (auto* logger = detail::enabled_logger(level))
    detail::emit(*logger, level, nullptr, format, fmt::make_format_args(args...));
}

template <class... Args>
void trace(const Fields& fields, fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::trace, fields, format, std::forward<Args>(args)...);
}
template <class... Args>
void trace(fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::trace, format, std::forward<Args>(args)...);
}
template <class... Args>
void debug(const Fields& fields, fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::debug, fields, format, std::forward<Args>(args)...);
}
template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::debug, format, std::forward<Args>(args)...);
}
template <class... Args>
void info(const Fields& fields, fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::info, fields, format, std::forward<Args>(args)...);
}
template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::info, format, std::forward<Args>(args)...);
}
template <class... Args>
void warn(const Fields& fields, fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::warn, fields, format, std::forward<Args>(args)...);
}
template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::warn, format, std::forward<Args>(args)...);
}
template <class... Args>
void error(const Fields& fields, fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::err, fields, format, std::forward<Args>(args)...);
}
template <class... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::err, format, std::forward<Args>(args)...);
}
template <class... Args>
void critical(const Fields& fields, fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::critical, fields, format, std::forward<Args>(args)...);
}
template <class... Args>
void critical(fmt::format_string<Args...> format, Args&&... args) {
  log(spdlog::level::critical, format, std::forward<Args>(args)...);
}

}  // namespace pb::log
