#include "sys/notify.hpp"

#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>
#include <string>

namespace pb::sys {

namespace {

std::uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000U +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1'000U;
}

}  // namespace

bool Notifier::enabled() const {
  const char* socket = getenv("NOTIFY_SOCKET");
  return socket != nullptr && socket[0] != '\0';
}

std::error_code Notifier::send(const char* state) const {
  // unset_environment = 0: beed may read NOTIFY_SOCKET again after this.
  const int r = sd_notify(0, state);
  if (r < 0) return {-r, std::system_category()};
  return {};
}

std::error_code Notifier::ready() const {
  return send("READY=1");
}

std::error_code Notifier::reloading() const {
  const std::string state = "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec());
  return send(state.c_str());
}

std::error_code Notifier::stopping() const {
  return send("STOPPING=1");
}

std::error_code Notifier::status(std::string_view text) const {
  std::string state = "STATUS=";
  state.reserve(state.size() + text.size());
  for (const char c : text) state.push_back(c == '\n' || c == '\0' ? ' ' : c);
  return send(state.c_str());
}

std::error_code Notifier::watchdog() const {
  return send("WATCHDOG=1");
}

std::optional<std::chrono::microseconds> Notifier::watchdog_interval() const {
  std::uint64_t usec = 0;
  // Also checks WATCHDOG_PID against getpid(); 0 keeps the environment.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(usec / 2));
}

}  // namespace pb::sys
