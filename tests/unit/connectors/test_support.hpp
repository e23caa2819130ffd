// Helpers for the connector tests: a scratch directory, and running a coroutine on an
// io_context with a separate worker pool, as beed does.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "connectors/store/store.hpp"
#include "connectors/warehouse/feed.hpp"

namespace pb::test {

class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("pb-connectors-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `make(pool_executor)` to completion on a fresh io_context; rethrows its exception.
template <class Make>
auto run_with_pool(Make make) {
  boost::asio::io_context io;
  boost::asio::thread_pool pool(2);
  auto future = boost::asio::co_spawn(io, make(pool.get_executor()), boost::asio::use_future);
  io.run();
  pool.join();
  return future.get();
}

// The run's mapping counters, as the engine keeps them for `beectl status`.
struct RecordingProgress final : connectors::MappingProgress {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> seen;  // (mapped, total)
  int done = 0;
  void mapping(std::uint64_t mapped, std::uint64_t total) override {
    seen.emplace_back(mapped, total);
  }
  void mapping_done() override { ++done; }
};

// A feed as text the tests compare whole: "SKU=QUANTITY@LINE;..." then "LINE|SKU|MESSAGE" per
// problem, then the held SKUs (a row or line number is the reader's: a CSV line, a PostgreSQL row).
inline std::string dump(const connectors::Feed& feed) {
  std::string out;
  for (const auto& row : feed.rows)
    out += row.sku + "=" + std::to_string(row.quantity) + "@" + std::to_string(row.line) + ";";
  out += "\n";
  for (const auto& p : feed.problems)
    out += std::to_string(p.line) + "|" + p.sku + "|" + p.message + "\n";
  for (const auto& sku : feed.held_skus) out += sku + ",";
  return out;
}

}  // namespace pb::test
