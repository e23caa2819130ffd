// The `type: csv` store: keeps a `sku,quantity` CSV file up to date for a shop that imports
// stock from a file. Each push rewrites the file atomically on the worker pool.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/store/store.hpp"

namespace pb::connectors {

class CsvStore final : public Store {
 public:
  explicit CsvStore(config::CsvStoreConfig config) : config_(std::move(config)) {}

  // One rewrite of the file per push: large batches keep full syncs to a few rewrites, and a
  // bound keeps a batch's vectors and its LMDB write transaction small (a 1M-item batch made
  // beed's peak 546 MB; issue 14). 200,000: a Full Sync of 1M SKUs rewrites the file 5 times.
  std::size_t max_batch() const override { return 200'000; }

  // Every item is confirmed once the new file is in place; StoreError (nothing changed)
  // otherwise.
  boost::asio::awaitable<std::vector<PushResult>> push(std::vector<PushItem> batch,
                                                       PushContext context) override;

  // "csv /path/file.csv"
  std::string describe() const override { return "csv " + config_.path.string(); }

 private:
  config::CsvStoreConfig config_;
};

}  // namespace pb::connectors
