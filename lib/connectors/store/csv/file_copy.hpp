// A whole file read into memory of its own, for the CSV store's patch of a file it wrote:
// anonymous pages populated in one go and given back at once (a 20 MB std::string was zeroed
// page by page first, then copied into).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string_view>

namespace pb::connectors {

class FileCopy {
 public:
  // Null when the file cannot be read whole (gone, shorter than `size`, no memory, empty).
  static std::unique_ptr<FileCopy> read(const std::filesystem::path& path, std::size_t size);

  FileCopy(const FileCopy&) = delete;
  FileCopy& operator=(const FileCopy&) = delete;
  ~FileCopy();

  std::string_view text() const { return {static_cast<const char*>(data_), size_}; }

 private:
  explicit FileCopy(std::size_t size);

  void* data_;
  std::size_t size_;
};

}  // namespace pb::connectors
