// Opens a local feed for reading: only a regular file or a named pipe (FIFO), at most a capped
// number of bytes, read so that a stop flag ends even a wait on an idle pipe within a second.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <ios>
#include <streambuf>
#include <vector>

namespace pb::connectors {

// The most a local feed may hold: the default `max_size` of a feed read from a URL (1 GiB).
// A larger file, or a pipe that delivers more, fails the run.
inline constexpr std::uint64_t kMaxFeedFileBytes = std::uint64_t{1} << 30;

// A stream buffer over a feed file. The constructor throws WarehouseError naming `path` when it
// cannot be opened, is neither a regular file nor a FIFO (/dev/zero, a socket, a directory), or
// is a regular file larger than `max_bytes`. Reads wait at most `kPollMillis` at a time, so
// `stop` (may be null), checked between reads, ends the read promptly: the stream then reports
// end of input and stopped() is true; too_large() likewise once more than `max_bytes` arrived.
// An I/O error throws from the read (an istream turns that into badbit).
class FeedFileBuf final : public std::streambuf {
 public:
  static constexpr int kPollMillis = 200;

  FeedFileBuf(const std::filesystem::path& path, std::uint64_t max_bytes,
              const std::atomic<bool>* stop);
  ~FeedFileBuf() override;
  FeedFileBuf(const FeedFileBuf&) = delete;
  FeedFileBuf& operator=(const FeedFileBuf&) = delete;

  // The file's size when it is a regular file; 0 for a pipe.
  std::uint64_t size() const { return size_; }
  bool stopped() const { return stopped_; }
  bool too_large() const { return too_large_; }

 protected:
  int_type underflow() override;
  // A regular file can be sought (the feed parser's fast path goes back to the start when it
  // gives up); a pipe cannot, and says so (-1).
  pos_type seekoff(off_type off, std::ios_base::seekdir dir,
                   std::ios_base::openmode which) override;
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override;

 private:
  int fd_ = -1;
  std::uint64_t max_bytes_;
  const std::atomic<bool>* stop_;
  bool regular_ = false;
  std::uint64_t size_ = 0;
  std::uint64_t read_bytes_ = 0;
  bool stopped_ = false;
  bool too_large_ = false;
  std::vector<char> buffer_;
};

}  // namespace pb::connectors
