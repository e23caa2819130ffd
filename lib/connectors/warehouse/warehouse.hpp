// The interface every warehouse connector implements: produce the current
// snapshot of quantities. Connectors know nothing of LMDB or of stores.
#pragma once

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/warehouse/feed.hpp"

namespace pb::connectors {

// WarehouseError (the source could not be read at all) is in feed.hpp.

// What the engine remembers of this source's last committed read.
struct ReadRequest {
  // Not an aggregate, so that callers writing {kind, validator, cursor} need not name `stop`.
  ReadRequest() = default;
  ReadRequest(SyncKind kind_, std::string validator_, std::string cursor_,
              std::shared_ptr<const std::atomic<bool>> stop_ = nullptr)
      : kind(kind_),
        validator(std::move(validator_)),
        cursor(std::move(cursor_)),
        stop(std::move(stop_)) {}

  // Full: read everything and ignore `validator` and `cursor`; a Full Sync always does.
  SyncKind kind = SyncKind::full;
  std::string validator;  // Feed::validator of the last committed read; empty: none
  std::string cursor;     // Feed::cursor of the last committed read; empty: none
  // Set by the engine when the read must end now (beed is stopping, the run was cancelled):
  // a reader that checks it throws WarehouseError soon after. Null: nothing will stop it.
  // Shared, as the read on the pool may outlive the coroutine that started it.
  std::shared_ptr<const std::atomic<bool>> stop;
  // Rows the engine already has (feed.hpp); null: none. Only the CSV file reader without a
  // location column uses it; every other reader ignores it and reads whole feeds (sieved 0).
  std::shared_ptr<FeedSieve> sieve;
};

class Warehouse {
 public:
  virtual ~Warehouse() = default;

  // Reads the current snapshot, or (Smart Sync, when the source supports it and `request`
  // carries a cursor) only what changed. Blocking work runs on `pool`; the coroutine resumes
  // on the caller's executor. Throws WarehouseError.
  virtual boost::asio::awaitable<Feed> read(boost::asio::any_io_executor pool,
                                            ReadRequest request) = 0;

  // One line for logs and `beectl`: "csv /srv/feeds/acme/inv_*.csv". No secrets.
  virtual std::string describe() const = 0;

  // The name under which the engine keeps what this source said with its last committed read
  // (Feed::validator, Feed::cursor), and a fingerprint of the configuration that memory is
  // valid for. An empty name: nothing is remembered, every read is a whole snapshot.
  virtual std::string remembered_as() const { return {}; }
  virtual std::string fingerprint() const { return {}; }
};

}  // namespace pb::connectors
