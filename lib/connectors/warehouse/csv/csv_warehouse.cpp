#include "connectors/warehouse/csv/csv_warehouse.hpp"

#include <fnmatch.h>

#include <cerrno>
#include <cstring>
#include <istream>
#include <optional>
#include <system_error>
#include <utility>

#include <boost/asio/this_coro.hpp>

#include "async/offload.hpp"
#include "connectors/warehouse/csv/feed_file.hpp"
#include "connectors/warehouse/csv/http_csv_source.hpp"
#include "connectors/warehouse/http_source_client.hpp"
#include "core/utf8.hpp"

namespace pb::connectors {
namespace fs = std::filesystem;

namespace {

std::string where(const fs::path& dir, const std::string& pattern) {
  return dir.string() + " (" + pattern + ")";
}

}  // namespace

fs::path choose_feed_file(const fs::path& path, const std::string& pattern) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec) throw WarehouseError(path.string() + ": " + ec.message());
  if (!fs::is_directory(status)) return path;

  fs::directory_iterator it(path, ec);
  if (ec) throw WarehouseError(where(path, pattern) + ": cannot list directory: " + ec.message());
  std::optional<std::pair<fs::file_time_type, std::string>> best;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (::fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) != 0) continue;
    // A file may vanish between listing and stat (the 3PL rotates old exports): skip it.
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec) || entry_ec) continue;
    const auto mtime = it->last_write_time(entry_ec);
    if (entry_ec) continue;
    std::pair candidate{mtime, name};
    if (!best || *best < candidate) best = std::move(candidate);
  }
  if (ec) throw WarehouseError(where(path, pattern) + ": cannot list directory: " + ec.message());
  if (!best) throw WarehouseError(where(path, pattern) + ": no file matches the pattern");
  return path / best->second;
}

CsvFeedOptions csv_feed_options(const config::CsvWarehouseConfig& config) {
  CsvFeedOptions options;
  options.sku_column = config.sku_column;
  options.quantity_column = config.quantity_column;
  options.delimiter = config.delimiter;
  options.duplicates = config.duplicates;
  options.location_column = config.location_column;
  options.locations = config.locations;
  return options;
}

namespace {

Feed read_csv_file(const config::CsvWarehouseConfig& config, const std::atomic<bool>* stop,
                   FeedSieve* sieve) {
  const fs::path file = choose_feed_file(config.path, config.pattern);
  // File names are foreign bytes too: the origin goes into messages and the history.
  const std::string origin = utf8::escape_invalid(file.string());
  FeedFileBuf buffer(file, kMaxFeedFileBytes, stop);
  std::istream in(&buffer);
  CsvFeedOptions options = csv_feed_options(config);
  options.stop = stop;
  options.expected_bytes = buffer.size();
  // Only on a regular file: a sieved feed the engine cannot use is read again, and a pipe gives
  // its feed once (size() is 0 for a pipe).
  options.sieve = buffer.size() > 0 ? sieve : nullptr;
  // Whatever the parser made of a cut input, a stopped or oversized read fails the run.
  const auto check = [&] {
    if (buffer.stopped())
      throw WarehouseError(origin + ": the read was stopped (beed is stopping)");
    if (buffer.too_large())
      throw WarehouseError(origin + ": more than the " + std::to_string(kMaxFeedFileBytes) +
                           " bytes a feed may hold; refusing it");
  };
  try {
    Feed feed = parse_csv_feed(in, options, origin);
    check();
    return feed;
  } catch (const WarehouseError&) {
    check();
    throw;
  }
}

}  // namespace

Feed read_csv_warehouse(const config::CsvWarehouseConfig& config, const std::atomic<bool>* stop) {
  return read_csv_file(config, stop, nullptr);
}

boost::asio::awaitable<Feed> CsvWarehouse::read(boost::asio::any_io_executor pool,
                                                ReadRequest request) {
  if (!config_.url.empty()) {
    // Copies, so that nothing below refers to this warehouse, which a reload may replace.
    auto config = config_;
    auto session = session_;
    if (!session)
      session = make_source_session(co_await boost::asio::this_coro::executor,
                                    parse_source_url(config.url), config.http,
                                    static_cast<std::size_t>(config.max_size));
    co_return co_await read_http_csv(*session, std::move(pool), std::move(config),
                                     std::move(request));
  }
  // A copy: a reload may replace this warehouse while the pool is still reading. A named local,
  // not a temporary in the co_await expression, which g++ 12 may destroy twice.
  // The sieve, when the engine gives one, is the pool's alone until the read returns.
  auto work = [config = config_, stop = request.stop, sieve = request.sieve] {
    return read_csv_file(config, stop.get(), sieve.get());
  };
  co_return co_await async::offload(std::move(pool), std::move(work));
}

std::string CsvWarehouse::describe() const {
  if (!config_.url.empty()) {
    try {
      return "csv " + display_url(parse_source_url(config_.url));
    } catch (const WarehouseError&) {
      return "csv (an invalid URL)";  // the configuration loader refuses it
    }
  }
  std::error_code ec;
  if (fs::is_directory(config_.path, ec)) return "csv " + where(config_.path, config_.pattern);
  return "csv " + config_.path.string();
}

}  // namespace pb::connectors
