#include "connectors/warehouse/csv/feed_file.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "connectors/warehouse/feed.hpp"

namespace pb::connectors {
namespace {

constexpr std::size_t kBufferBytes = 256 * 1024;

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

FeedFileBuf::FeedFileBuf(const std::filesystem::path& path, std::uint64_t max_bytes,
                         const std::atomic<bool>* stop)
    : max_bytes_(max_bytes), stop_(stop) {
  // Non-blocking: opening a FIFO would otherwise wait for a writer, where no stop can reach it.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd_ < 0) throw WarehouseError(path.string() + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int error = errno;
    ::close(fd_);
    throw WarehouseError(path.string() + ": cannot open: " + std::strerror(error));
  }
  const auto fail = [&](const std::string& why) {
    ::close(fd_);
    fd_ = -1;
    throw WarehouseError(path.string() + ": " + why);
  };
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
    fail(std::string("is ") + kind_of(st.st_mode) +
         "; a feed must be a regular file (or a named pipe)");
  if (S_ISREG(st.st_mode)) {
    regular_ = true;
    size_ = static_cast<std::uint64_t>(st.st_size);
    if (size_ > max_bytes_)
      fail("is larger than the " + std::to_string(max_bytes_) + " bytes a feed may hold (" +
           std::to_string(size_) + " bytes)");
  }
  buffer_.resize(kBufferBytes);
}

FeedFileBuf::~FeedFileBuf() {
  if (fd_ >= 0) ::close(fd_);
}

FeedFileBuf::int_type FeedFileBuf::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  if (stopped_ || too_large_) return traits_type::eof();
  for (;;) {
    if (stop_ != nullptr && stop_->load(std::memory_order_relaxed)) {
      stopped_ = true;
      return traits_type::eof();
    }
    // A regular file is always ready; a pipe with no writer yet, or no data, is waited for a
    // little at a time so that the stop flag is seen.
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, kPollMillis);
    if (ready < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category());
    if (ready <= 0) continue;
    const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw std::system_error(errno, std::generic_category());
    }
    if (n == 0) return traits_type::eof();
    read_bytes_ += static_cast<std::uint64_t>(n);
    if (read_bytes_ > max_bytes_) {
      too_large_ = true;
      return traits_type::eof();
    }
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return traits_type::to_int_type(*gptr());
  }
}

FeedFileBuf::pos_type FeedFileBuf::seekoff(off_type off, std::ios_base::seekdir dir,
                                           std::ios_base::openmode which) {
  const auto here = static_cast<off_type>(read_bytes_) - (egptr() - gptr());
  if (dir == std::ios_base::cur && off == 0 && regular_) return pos_type(here);
  const off_type base = dir == std::ios_base::beg   ? 0
                        : dir == std::ios_base::cur ? here
                                                    : static_cast<off_type>(size_);
  return seekpos(pos_type(base + off), which);
}

FeedFileBuf::pos_type FeedFileBuf::seekpos(pos_type pos, std::ios_base::openmode which) {
  const auto to = static_cast<off_type>(pos);
  if (!regular_ || (which & std::ios_base::in) == 0 || to < 0 ||
      ::lseek(fd_, static_cast<off_t>(to), SEEK_SET) < 0)
    return pos_type(off_type(-1));
  read_bytes_ = static_cast<std::uint64_t>(to);
  setg(buffer_.data(), buffer_.data(), buffer_.data());  // nothing buffered: the next read reads
  return pos;
}

}  // namespace pb::connectors
