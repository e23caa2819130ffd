// Runs independent requests a few at a time: store APIs take a page or a batch
// a request (WooCommerce at most 100 objects), so throughput comes from requests
// in flight, bounded by the connector's configured concurrency.
#pragma once

#include <cstddef>
#include <functional>

#include <boost/asio/awaitable.hpp>

namespace pb::async {

using IndexedTask = std::function<boost::asio::awaitable<void>(std::size_t)>;

// Awaits task(0) ... task(count - 1), at most `limit` of them under way at once, all on
// the calling coroutine's executor (a limit of 0 counts as 1). The tasks share the caller's state
// without locks: beed's loop is one thread, and a task runs only between its co_awaits. After a
// task throws no new task starts; the first exception is rethrown once the others end.
boost::asio::awaitable<void> for_each_bounded(std::size_t count, std::size_t limit,
                                              const IndexedTask& task);

}  // namespace pb::async
