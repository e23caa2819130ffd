#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "../temp_dir.hpp"
#include "datagram_receiver.hpp"
#include "sys/child_process.hpp"

using namespace std::chrono_literals;
using pb::sys::ChildResult;
using pb::sys::ChildSpec;
using pb::sys::run_child;
using pb::test::ScopedEnv;
using pb::test::TempDir;
using Status = ChildResult::Status;

namespace {

ChildSpec command(std::vector<std::string> argv) {
  ChildSpec spec;
  spec.argv = std::move(argv);
  return spec;
}

ChildSpec shell(std::string script) {
  return command({"/bin/sh", "-c", std::move(script)});
}

std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Dead: no such process, or a zombie waiting for a pid 1 that may never reap
// it (as in a container). Polls for up to a second.
bool dead(pid_t pid) {
  for (int i = 0; i < 100; ++i) {
    if (kill(pid, 0) < 0 && errno == ESRCH) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');  // "pid (comm) STATE ..."
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z') {
      return true;
    }
    usleep(10'000);
  }
  return false;
}

pid_t read_pid(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  return text.empty() ? 0 : static_cast<pid_t>(std::stol(text));
}

bool sigpipe_blocked() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

bool sigpipe_pending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

}  // namespace

TEST_CASE("run_child delivers stdin byte for byte and closes it") {
  // cat ends only at EOF, so a stdin left open would end in a timeout.
  ChildSpec spec;
  spec.argv = {"cat"};
  spec.stdin_data = R"({"connection":"shop-eu","run":17,"error":"HTTP 503\n\u00e9t\u00e9 ✓"})";
  spec.stdin_data += '\n';
  spec.timeout = 3s;
  const ChildResult r = run_child(spec);
  CHECK(r.status == Status::exited);
  CHECK(r.ok());
  CHECK(r.output == spec.stdin_data);
  CHECK(r.output_dropped == 0);
}

TEST_CASE("run_child gives the child only its own variables, PATH and LANG") {
  const ScopedEnv credentials("CREDENTIALS_DIRECTORY", "/run/credentials/beed.service");
  const ScopedEnv notify("NOTIFY_SOCKET", "/run/systemd/notify");
  ChildSpec spec;
  spec.argv = {"env"};  // found on the child's PATH
  spec.env = {{"PB_CONNECTION", "shop-eu"}, {"PB_RUN", "17"}};
  const ChildResult r = run_child(spec);
  REQUIRE(r.ok());
  CHECK(sorted_lines(r.output) ==
        std::vector<std::string>{
            "LANG=C.UTF-8", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "PB_CONNECTION=shop-eu", "PB_RUN=17"});
}

TEST_CASE("run_child lets env override PATH and LANG and searches the child's PATH") {
  ChildSpec spec;
  spec.argv = {"env"};
  spec.env = {{"LANG", "de_DE.UTF-8"}, {"PATH", "/nonexistent:/usr/bin"}};
  ChildResult r = run_child(spec);
  REQUIRE(r.ok());
  CHECK(sorted_lines(r.output) ==
        std::vector<std::string>{"LANG=de_DE.UTF-8", "PATH=/nonexistent:/usr/bin"});

  // beed's PATH would find env: only the child's counts.
  spec.env = {{"PATH", "/nonexistent"}};
  r = run_child(spec);
  CHECK(r.status == Status::spawn_failed);
  CHECK(r.error == "env: No such file or directory (searched PATH /nonexistent)");
}

TEST_CASE("run_child refuses an environment variable name with '='") {
  ChildSpec spec = shell("exit 0");
  spec.env = {{"A=B", "1"}};
  const ChildResult r = run_child(spec);
  CHECK(r.status == Status::spawn_failed);
  CHECK(r.describe() == "could not start /bin/sh: invalid environment variable \"A=B\"");
}

TEST_CASE("run_child reports the exit code") {
  ChildResult r = run_child(shell("exit 3"));
  CHECK(r.status == Status::exited);
  CHECK(r.code == 3);
  CHECK_FALSE(r.ok());
  CHECK(r.describe() == "exited with 3");

  r = run_child(shell("exit 0"));
  CHECK(r.ok());
  CHECK(r.describe() == "exited with 0");
}

TEST_CASE("run_child reports a child killed by a signal") {
  const ChildResult r = run_child(shell("kill -KILL $$"));
  CHECK(r.status == Status::signalled);
  CHECK(r.code == SIGKILL);
  CHECK_FALSE(r.ok());
  CHECK(r.describe() == "killed by signal 9");
}

TEST_CASE("run_child starts the child with default signal dispositions and an empty mask") {
  // An ignored signal stays ignored across exec, and a non-interactive sh may
  // not undo it; a blocked one stays blocked. Both must be reset by the spawn.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_term {};
  REQUIRE(sigaction(SIGTERM, &ignore, &old_term) == 0);
  sigset_t usr1;
  sigset_t old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  REQUIRE(pthread_sigmask(SIG_BLOCK, &usr1, &old_mask) == 0);

  const ChildResult term = run_child(shell("kill -TERM $$; exit 0"));
  const ChildResult user = run_child(shell("kill -USR1 $$; exit 0"));

  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  CHECK(term.status == Status::signalled);
  CHECK(term.code == SIGTERM);
  CHECK(user.status == Status::signalled);
  CHECK(user.code == SIGUSR1);
}

TEST_CASE("run_child at the timeout kills the whole process group") {
  TempDir dir;
  const auto pid_file = dir / "grandchild";
  ChildSpec spec = shell("sleep 100 & echo $! > '" + pid_file.string() + "'; wait");
  spec.timeout = 300ms;
  const ChildResult r = run_child(spec);
  CHECK(r.status == Status::timed_out);
  CHECK(r.code == SIGTERM);
  CHECK(r.elapsed >= 300ms);
  CHECK(r.elapsed < 2s);
  CHECK(r.describe() == "timed out after 300 ms (killed)");
  const pid_t grandchild = read_pid(pid_file);
  REQUIRE(grandchild > 0);
  CHECK(dead(grandchild));
}

TEST_CASE("run_child sends SIGKILL 2 s after SIGTERM when the group ignores it") {
  TempDir dir;
  const auto pid_file = dir / "grandchild";
  ChildSpec spec = shell("trap '' TERM; sleep 100 & echo $! > '" + pid_file.string() + "'; wait");
  spec.timeout = 200ms;
  const ChildResult r = run_child(spec);
  CHECK(r.status == Status::timed_out);
  CHECK(r.code == SIGKILL);
  CHECK(r.elapsed >= 2200ms);
  CHECK(r.elapsed < 3500ms);
  const pid_t grandchild = read_pid(pid_file);
  REQUIRE(grandchild > 0);
  CHECK(dead(grandchild));
}

TEST_CASE("run_child returns when the child exits though a background process holds stdout") {
  ChildSpec spec = shell("sleep 5 & echo $!");
  spec.timeout = 4s;
  const ChildResult r = run_child(spec);
  CHECK(r.status == Status::exited);
  CHECK(r.ok());
  CHECK(r.elapsed < 1s);
  REQUIRE_FALSE(r.output.empty());
  const auto grandchild = static_cast<pid_t>(std::stol(r.output));
  REQUIRE(grandchild > 0);
  kill(grandchild, SIGKILL);
}

TEST_CASE("run_child survives a child that does not read 1 MiB of stdin") {
  REQUIRE_FALSE(sigpipe_blocked());
  REQUIRE_FALSE(sigpipe_pending());
  SUBCASE("closes stdin, so writing fails with EPIPE") {
    // Default SIGPIPE disposition in this test: a stray SIGPIPE kills the test.
    ChildSpec spec = shell("exec 0<&-; sleep 0.2");
    spec.stdin_data.assign(1 << 20, 'x');
    spec.timeout = 3s;
    const ChildResult r = run_child(spec);
    CHECK(r.ok());
    CHECK(r.elapsed < 2s);
  }
  SUBCASE("leaves stdin open and full") {
    ChildSpec spec = shell("sleep 0.2");
    spec.stdin_data.assign(1 << 20, 'x');
    spec.timeout = 3s;
    const ChildResult r = run_child(spec);
    CHECK(r.ok());
    CHECK(r.elapsed < 2s);
  }
  CHECK_FALSE(sigpipe_blocked());
  CHECK_FALSE(sigpipe_pending());
}

TEST_CASE("run_child keeps output_limit bytes of a chatty child and counts the rest") {
  ChildSpec spec = shell("head -c 1000000 /dev/zero | tr '\\0' x");
  spec.timeout = 3s;
  const ChildResult r = run_child(spec);
  CHECK(r.ok());
  CHECK(r.output == std::string(4096, 'x'));
  CHECK(r.output_dropped == 1000000 - 4096);
}

TEST_CASE("run_child interleaves stdout and stderr in the order written") {
  const ChildResult r = run_child(shell("echo one; echo two >&2; echo three"));
  CHECK(r.ok());
  CHECK(r.output == "one\ntwo\nthree\n");
}

TEST_CASE("run_child reports an executable it cannot start as spawn_failed") {
  TempDir dir;
  SUBCASE("a missing path") {
    const ChildResult r = run_child(command({"/nonexistent/pb-hook"}));
    CHECK(r.status == Status::spawn_failed);
    CHECK(r.error == "/nonexistent/pb-hook: No such file or directory");
    CHECK(r.describe() == "could not start /nonexistent/pb-hook: No such file or directory");
  }
  SUBCASE("a name on no PATH directory") {
    const ChildResult r = run_child(command({"pb-no-such-hook"}));
    CHECK(r.status == Status::spawn_failed);
    CHECK(r.error.find("pb-no-such-hook: No such file or directory") == 0);
  }
  SUBCASE("a file without execute permission") {
    const auto hook = dir / "hook";
    std::ofstream(hook) << "#!/bin/sh\nexit 0\n";
    REQUIRE(chmod(hook.c_str(), 0644) == 0);
    const ChildResult r = run_child(command({hook.string()}));
    CHECK(r.status == Status::spawn_failed);
    CHECK(r.error == hook.string() + ": Permission denied");
  }
  SUBCASE("a file that is no program") {
    const auto hook = dir / "hook";
    std::ofstream(hook) << "\x01\x02 not a program\n";
    REQUIRE(chmod(hook.c_str(), 0755) == 0);
    const ChildResult r = run_child(command({hook.string()}));
    CHECK(r.status == Status::spawn_failed);
    CHECK(r.error == hook.string() + ": Exec format error");
  }
  SUBCASE("an empty argv") {
    const ChildResult r = run_child(ChildSpec{});
    CHECK(r.status == Status::spawn_failed);
    CHECK(r.describe() == "could not start an empty command");
  }
}

TEST_CASE("run_child passes the child no descriptor but 0, 1 and 2") {
  const int leaky = open("/dev/null", O_RDONLY);  // no O_CLOEXEC, on purpose
  REQUIRE(leaky > 2);
  // ls runs as sh's child and lists sh's descriptors, not its own.
  const ChildResult r = run_child(shell("ls /proc/$$/fd"));
  close(leaky);
  CHECK(r.ok());
  CHECK(r.output == "0\n1\n2\n");
}

TEST_CASE("run_child measures the elapsed time") {
  const ChildResult r = run_child(shell("sleep 0.2"));
  CHECK(r.ok());
  CHECK(r.elapsed >= 200ms);
  CHECK(r.elapsed < 2s);
}

TEST_CASE("run_child runs children from several threads at once") {
  constexpr int kThreads = 4;
  std::vector<ChildResult> results(kThreads);
  std::vector<std::string> inputs;
  for (int i = 0; i < kThreads; ++i)
    inputs.push_back(std::string(200'000, static_cast<char>('a' + i)));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ChildSpec spec;
      spec.argv = {"cat"};
      spec.stdin_data = inputs[static_cast<std::size_t>(i)];
      spec.output_limit = spec.stdin_data.size();
      spec.timeout = 3s;
      results[static_cast<std::size_t>(i)] = run_child(spec);
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < kThreads; ++i) {
    CHECK(results[i].ok());
    CHECK(results[i].output == inputs[i]);
  }
}
