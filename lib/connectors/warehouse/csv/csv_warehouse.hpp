// The `type: csv` warehouse: a CSV file, or the newest matching file of a directory where a 3PL
// drops its exports (e.g. `inv_*.csv` over SFTP), parsed on the worker pool; or a CSV file
// fetched from a URL (http_csv_source.hpp).
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/warehouse/csv/csv_feed_parser.hpp"
#include "connectors/warehouse/feed.hpp"
#include "connectors/warehouse/warehouse.hpp"
#include "net/http_session.hpp"

namespace pb::connectors {

// `path` itself when it is not a directory; otherwise its newest regular file whose name matches
// `pattern` (fnmatch(3); a leading dot must be matched explicitly, so upload temp files like
// `.inv_1.csv.part` are skipped), newest by mtime, ties broken by the greatest name.
// Throws WarehouseError naming the path and pattern when there is no such file.
std::filesystem::path choose_feed_file(const std::filesystem::path& path,
                                       const std::string& pattern);

CsvFeedOptions csv_feed_options(const config::CsvWarehouseConfig& config);

// Chooses the file and parses it, blocking. Feed::origin is the chosen file. The file must be a
// regular file or a named pipe of at most kMaxFeedFileBytes (feed_file.hpp); setting `stop`
// (may be null) ends the read within a fraction of a second with a WarehouseError.
Feed read_csv_warehouse(const config::CsvWarehouseConfig& config,
                        const std::atomic<bool>* stop = nullptr);

class CsvWarehouse final : public Warehouse {
 public:
  explicit CsvWarehouse(config::CsvWarehouseConfig config) : config_(std::move(config)) {}
  // Reads config.url through `session` (tests) instead of a session of its own per read.
  CsvWarehouse(config::CsvWarehouseConfig config, std::shared_ptr<net::HttpSession> session)
      : config_(std::move(config)), session_(std::move(session)) {}

  boost::asio::awaitable<Feed> read(boost::asio::any_io_executor pool,
                                    ReadRequest request) override;

  // "csv /srv/feeds/acme (inv_*.csv)" for a directory, "csv /srv/feeds/acme.csv" for a file,
  // "csv https://feeds.example.com/acme.csv" for a URL (without its query).
  std::string describe() const override;

 private:
  config::CsvWarehouseConfig config_;
  std::shared_ptr<net::HttpSession> session_;
};

}  // namespace pb::connectors
