#include "connectors/warehouse/postgres/postgres_warehouse.hpp"

#include <utility>

#include "async/offload.hpp"
#include "connectors/warehouse/postgres/postgres_reader.hpp"

namespace pb::connectors {

boost::asio::awaitable<Feed> PostgresWarehouse::read(boost::asio::any_io_executor pool,
                                                     ReadRequest request) {
  // Incremental only for a Smart Sync that has a cursor; otherwise $1 is NULL: everything.
  std::optional<std::string> cursor;
  if (request.kind == SyncKind::smart && !request.cursor.empty()) cursor = request.cursor;
  // A copy: a reload may replace this warehouse while the pool is still reading. A named local,
  // not a temporary in the co_await expression, which g++ 12 may destroy twice.
  auto work = [config = config_, cursor = std::move(cursor), kept = kept_, sieve = request.sieve] {
    return read_postgres_warehouse(config, cursor, kept.get(), sieve.get());
  };
  co_return co_await async::offload(std::move(pool), std::move(work));
}

std::string PostgresWarehouse::describe() const {
  return postgres_origin(config_);
}

}  // namespace pb::connectors
