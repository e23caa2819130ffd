// Helpers for the lib/log tests: a pipe to capture a sink's output, and a
// parser for journal native-protocol entries.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

namespace pb::test {

// Puts the previous default logger back: the loggers the tests install
// write to fds (pipes) that close when the test ends.
class DefaultLoggerGuard {
 public:
  DefaultLoggerGuard() : previous_(spdlog::default_logger()) {}
  ~DefaultLoggerGuard() { spdlog::set_default_logger(previous_); }
  DefaultLoggerGuard(const DefaultLoggerGuard&) = delete;
  DefaultLoggerGuard& operator=(const DefaultLoggerGuard&) = delete;

 private:
  std::shared_ptr<spdlog::logger> previous_;
};

class Pipe {
 public:
  Pipe() {
    if (::pipe2(fds_, O_CLOEXEC) < 0) throw std::runtime_error("pipe2 failed");
    ::fcntl(fds_[0], F_SETFL, O_NONBLOCK);
  }
  ~Pipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  int write_end() const { return fds_[1]; }
  int read_end() const { return fds_[0]; }

  // Everything written so far.
  std::string drain() const {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds_[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

 private:
  int fds_[2];
};

using JournalFields = std::vector<std::pair<std::string, std::string>>;

// Parses "KEY=value\n" and "KEY\n<le64 size><value>\n" fields in order;
// throws on anything malformed.
inline JournalFields parse_journal_entry(std::string_view data) {
  JournalFields fields;
  while (!data.empty()) {
    const auto eol = data.find('\n');
    if (eol == std::string_view::npos) throw std::runtime_error("field without newline");
    const auto eq = data.substr(0, eol).find('=');
    if (eq != std::string_view::npos) {
      fields.emplace_back(std::string(data.substr(0, eq)),
                          std::string(data.substr(eq + 1, eol - eq - 1)));
      data.remove_prefix(eol + 1);
      continue;
    }
    std::string key(data.substr(0, eol));
    data.remove_prefix(eol + 1);
    if (data.size() < 8) throw std::runtime_error("short binary field");
    std::uint64_t size = 0;
    for (int i = 7; i >= 0; --i)
      size = (size << 8U) | static_cast<unsigned char>(data[static_cast<std::size_t>(i)]);
    data.remove_prefix(8);
    if (data.size() < size + 1 || data[size] != '\n')
      throw std::runtime_error("bad binary field size");
    fields.emplace_back(std::move(key), std::string(data.substr(0, size)));
    data.remove_prefix(size + 1);
  }
  return fields;
}

}  // namespace pb::test
