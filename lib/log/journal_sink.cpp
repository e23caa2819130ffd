#include "log/journal_sink.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "log/priority.hpp"
#include "log/stderr_sink.hpp"

namespace pb::log {

namespace {

// Entries larger than this are not kept around in entry_ between calls.
constexpr std::size_t kKeptCapacity = 64 * 1024;

void append_decimal(std::string& out, std::uint64_t value) {
  char digits[20];
  const auto r = fmt::format_to_n(digits, sizeof digits, "{}", value);
  out.append(digits, r.size);
}

// strerror() is not thread-safe and the message must not allocate.
const char* describe(int error) noexcept {
  const char* text = strerrordesc_np(error);
  return text != nullptr ? text : "unknown error";
}

}  // namespace

void append_journal_field(std::string& entry, std::string_view key, std::string_view value) {
  entry.append(key);
  if (value.find('\n') == std::string_view::npos) {
    entry.push_back('=');
    entry.append(value);
  } else {
    entry.push_back('\n');
    auto size = static_cast<std::uint64_t>(value.size());
    for (int i = 0; i < 8; ++i) {
      entry.push_back(static_cast<char>(size & 0xffU));
      size >>= 8U;
    }
    entry.append(value);
  }
  entry.push_back('\n');
}

void append_journal_entry(std::string& entry, std::string_view message, int priority,
                          std::string_view identifier, pid_t pid, const Fields* fields) {
  append_journal_field(entry, "MESSAGE", message);
  const char level = static_cast<char>('0' + (priority & 7));
  append_journal_field(entry, "PRIORITY", std::string_view(&level, 1));
  append_journal_field(entry, "SYSLOG_IDENTIFIER", identifier);
  entry.append("SYSLOG_PID=");
  append_decimal(entry, static_cast<std::uint64_t>(pid));
  entry.push_back('\n');
  if (fields == nullptr) return;
  if (!fields->connection.empty()) append_journal_field(entry, "CONNECTION", fields->connection);
  if (!fields->sync.empty()) append_journal_field(entry, "SYNC", fields->sync);
  if (fields->run != 0) {
    entry.append("RUN=");
    append_decimal(entry, fields->run);
    entry.push_back('\n');
  }
}

JournalSink::JournalSink(std::string identifier, std::string socket_path, int fallback_fd)
    : identifier_(std::move(identifier)),
      socket_path_(std::move(socket_path)),
      fallback_fd_(fallback_fd),
      pid_(getpid()) {
  // Failure here is not fatal: every line then takes the stderr fallback.
  socket_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

JournalSink::~JournalSink() {
  if (socket_ >= 0) ::close(socket_);
}

void JournalSink::sink_it_(const spdlog::details::log_msg& msg) {
  const std::string_view message(msg.payload.data(), msg.payload.size());
  const int priority = syslog_priority(msg.level);
  int error = 0;
  try {
    entry_.clear();
    append_journal_entry(entry_, message, priority, identifier_, pid_, current_fields());
    error = send_datagram();
    if (error == EMSGSIZE || error == ENOBUFS || error == ENOMEM) error = send_memfd();
  } catch (...) {
    error = ENOMEM;
  }
  if (entry_.capacity() > kKeptCapacity) std::string().swap(entry_);
  if (error != 0) {
    fall_back(priority, message, error);
  } else if (failing_) {
    failing_ = false;
    write_prefixed(fallback_fd_, 5, "journal socket is back; log lines go to the journal again");
  }
}

int JournalSink::send_datagram() noexcept {
  iovec iov{entry_.data(), entry_.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  return send_message(mh);
}

int JournalSink::send_memfd() noexcept {
  const int fd = ::memfd_create("beed-journal-entry", MFD_ALLOW_SEALING | MFD_CLOEXEC);
  if (fd < 0) return errno;
  int error = 0;
  std::string_view rest = entry_;
  while (!rest.empty() && error == 0) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n >= 0)
      rest.remove_prefix(static_cast<std::size_t>(n));
    else if (errno != EINTR)
      error = errno;
  }
  // journald accepts only a memfd that nobody can change any more.
  if (error == 0 &&
      ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    error = errno;
  if (error == 0) {
    // The datagram itself is empty: the fd is the entry.
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr mh{};
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&mh);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    error = send_message(mh);
  }
  ::close(fd);
  return error;
}

// Unconnected sendmsg, as sd_journal_sendv does: a journald restart then
// needs no reconnect, the next line simply reaches the new socket.
int JournalSink::send_message(msghdr& mh) noexcept {
  if (socket_ < 0) return EBADF;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof addr.sun_path) return ENAMETOOLONG;
  std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
  mh.msg_name = &addr;
  mh.msg_namelen =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size() + 1);
  for (;;) {
    if (::sendmsg(socket_, &mh, MSG_NOSIGNAL) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

void JournalSink::fall_back(int priority, std::string_view message, int error) noexcept {
  if (!failing_) {
    failing_ = true;
    char text[512];
    const auto out = fmt::format_to_n(text, sizeof text,
                                      "cannot send to the journal socket {}: {}; log lines go "
                                      "to stderr without their fields",
                                      socket_path_, describe(error));
    write_prefixed(fallback_fd_, 4, std::string_view(text, std::min(out.size, sizeof text)));
  }
  write_prefixed(fallback_fd_, priority, message);
}

}  // namespace pb::log
