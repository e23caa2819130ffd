#include "connectors/store/csv/file_copy.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace pb::connectors {

FileCopy::FileCopy(std::size_t size)
    : data_(::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)),
      size_(size) {}

FileCopy::~FileCopy() {
  if (data_ != MAP_FAILED) ::munmap(data_, size_);
}

std::unique_ptr<FileCopy> FileCopy::read(const std::filesystem::path& path, std::size_t size) {
  if (size == 0) return nullptr;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  std::unique_ptr<FileCopy> copy(new FileCopy(size));
  std::size_t got = 0;
  while (copy->data_ != MAP_FAILED && got < size) {
    const ssize_t n =
        ::pread(fd, static_cast<char*>(copy->data_) + got, size - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (copy->data_ == MAP_FAILED || got != size) return nullptr;
  return copy;
}

}  // namespace pb::connectors
