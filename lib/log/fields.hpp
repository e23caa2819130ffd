// The journal fields a log line can carry (CONNECTION=, SYNC=, RUN=), and the
// thread_local hand-off that gets them from pb::log calls to the sinks.
#pragma once

#include <cstdint>
#include <string_view>

namespace pb::log {

// Empty views and run 0 mean "not set": that field is left out of the entry.
// The views must outlive the log call only, never longer.
struct Fields {
  std::string_view connection{};
  std::string_view sync{};  // "full" or "smart"
  std::uint64_t run = 0;
};

// The fields of the log call being written on this thread, or nullptr (a
// plain spdlog:: call, or no call in progress). For sinks.
const Fields* current_fields() noexcept;

// Publishes `fields` to this thread's sinks for one synchronous spdlog call.
//
// Why a thread_local and not a parameter: spdlog's log_msg has no room for
// extra fields, and we want to keep spdlog's level filtering, sinks and
// set_default_logger. Why it is safe with coroutines: the scope spans only
// logger.log() -> sink.log(), plain functions in which no co_await can
// suspend, so no other coroutine runs on this thread while it is set, and a
// coroutine that later resumes on another thread has long since reset it.
// Limits: an async spdlog logger would run the sinks on its own thread and
// see no fields (the loggers setup() makes are synchronous), and spdlog's
// backtrace buffer replays lines without them.
class FieldsScope {
 public:
  explicit FieldsScope(const Fields* fields) noexcept;
  ~FieldsScope();
  FieldsScope(const FieldsScope&) = delete;
  FieldsScope& operator=(const FieldsScope&) = delete;

 private:
  const Fields* previous_;
};

}  // namespace pb::log
