#include "log/log.hpp"

#include <unistd.h>

#include <algorithm>
#include <exception>
#include <string_view>

#include <fmt/format.h>

#include "log/stderr_sink.hpp"

namespace pb::log::detail {

void emit(spdlog::logger& logger, spdlog::level::level_enum level, const Fields* fields,
          fmt::string_view format, fmt::format_args args) noexcept {
  try {
    // Formatted before the fields are published: a formatter that logs
    // (it should not) cannot then tag its line with this call's fields.
    fmt::memory_buffer line;
    if (fields != nullptr && !fields->connection.empty()) {
      line.append(fields->connection);
      line.append(std::string_view(": "));
    }
    fmt::vformat_to(fmt::appender(line), format, args);
    const FieldsScope scope(fields);
    logger.log(level, spdlog::string_view_t(line.data(), line.size()));
  } catch (const std::exception& e) {
    // A fixed buffer: this may be bad_alloc, so do not allocate again.
    char text[512];
    const auto out = fmt::format_to_n(text, sizeof text, "cannot write a log line: {}", e.what());
    write_prefixed(STDERR_FILENO, 3, std::string_view(text, std::min(out.size, sizeof text)));
  } catch (...) {
    write_prefixed(STDERR_FILENO, 3, "cannot write a log line");
  }
}

}  // namespace pb::log::detail
