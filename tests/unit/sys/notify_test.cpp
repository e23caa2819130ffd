#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

#include <doctest/doctest.h>

#include "../temp_dir.hpp"
#include "datagram_receiver.hpp"
#include "sys/notify.hpp"

using pb::sys::Notifier;
using pb::test::DatagramReceiver;
using pb::test::ScopedEnv;

namespace {

std::string receive_text(DatagramReceiver& socket) {
  auto d = socket.receive();
  REQUIRE(d.has_value());
  CHECK(d->fds.empty());
  return d->data;
}

std::uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000U +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1'000U;
}

void check_all_messages(DatagramReceiver& socket) {
  const Notifier notifier;
  CHECK(notifier.enabled());

  CHECK_FALSE(notifier.ready());
  CHECK(receive_text(socket) == "READY=1");

  const auto before = monotonic_usec();
  CHECK_FALSE(notifier.reloading());
  const auto after = monotonic_usec();
  const std::string reloading = receive_text(socket);
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  REQUIRE(reloading.rfind(prefix, 0) == 0);
  const auto stamp = std::stoull(reloading.substr(prefix.size()));
  CHECK(stamp >= before);
  CHECK(stamp <= after);
  CHECK(reloading.find_first_not_of("0123456789", prefix.size()) == std::string::npos);

  CHECK_FALSE(notifier.stopping());
  CHECK(receive_text(socket) == "STOPPING=1");

  CHECK_FALSE(notifier.status("syncing acme-shop\nrun 12"));
  CHECK(receive_text(socket) == "STATUS=syncing acme-shop run 12");

  CHECK_FALSE(notifier.watchdog());
  CHECK(receive_text(socket) == "WATCHDOG=1");

  CHECK_FALSE(socket.receive(50).has_value());
}

}  // namespace

TEST_CASE("Notifier sends each state to a path NOTIFY_SOCKET") {
  pb::test::TempDir dir;
  const std::string path = (dir / "notify").string();
  DatagramReceiver socket(path);
  ScopedEnv env("NOTIFY_SOCKET", path.c_str());
  check_all_messages(socket);
  // sd_notify was asked not to unset it: beed may notify again after a reload.
  CHECK(getenv("NOTIFY_SOCKET") == path);
}

TEST_CASE("Notifier sends to an abstract @name NOTIFY_SOCKET") {
  const std::string name = "@pbtest-notify-" + std::to_string(getpid());
  DatagramReceiver socket(name);
  ScopedEnv env("NOTIFY_SOCKET", name.c_str());
  check_all_messages(socket);
}

TEST_CASE("Notifier without NOTIFY_SOCKET does nothing and succeeds") {
  ScopedEnv env("NOTIFY_SOCKET", nullptr);
  const Notifier notifier;
  CHECK_FALSE(notifier.enabled());
  CHECK_FALSE(notifier.ready());
  CHECK_FALSE(notifier.status("x"));
  CHECK_FALSE(notifier.watchdog());
}

TEST_CASE("Notifier reports a socket nobody listens on") {
  pb::test::TempDir dir;
  const std::string path = (dir / "absent").string();
  ScopedEnv env("NOTIFY_SOCKET", path.c_str());
  CHECK(Notifier{}.ready());
}

TEST_CASE("watchdog_interval is half of WATCHDOG_USEC for this pid only") {
  using std::chrono::microseconds;
  const Notifier notifier;
  {
    ScopedEnv usec("WATCHDOG_USEC", nullptr);
    ScopedEnv pid("WATCHDOG_PID", nullptr);
    CHECK_FALSE(notifier.watchdog_interval().has_value());
  }
  ScopedEnv usec("WATCHDOG_USEC", "2000000");
  {
    ScopedEnv pid("WATCHDOG_PID", nullptr);
    CHECK(notifier.watchdog_interval() == microseconds(1'000'000));
    CHECK(getenv("WATCHDOG_USEC") != nullptr);
  }
  {
    const std::string self = std::to_string(getpid());
    ScopedEnv pid("WATCHDOG_PID", self.c_str());
    CHECK(notifier.watchdog_interval() == microseconds(1'000'000));
  }
  {
    const std::string other = std::to_string(getpid() + 1);
    ScopedEnv pid("WATCHDOG_PID", other.c_str());
    CHECK_FALSE(notifier.watchdog_interval().has_value());
  }
  {
    ScopedEnv pid("WATCHDOG_PID", nullptr);
    ScopedEnv bad("WATCHDOG_USEC", "soon");
    CHECK_FALSE(notifier.watchdog_interval().has_value());
  }
}
