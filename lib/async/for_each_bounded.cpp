#include "async/for_each_bounded.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace pb::async {
namespace {

namespace asio = boost::asio;

struct Shared {
  const IndexedTask* task = nullptr;
  std::size_t count = 0;
  std::size_t next = 0;
  std::exception_ptr error;
};

// A worker takes the next index until none is left: `limit` workers make `limit`
// requests in flight without a semaphore.
asio::awaitable<void> worker(std::shared_ptr<Shared> shared) {
  while (shared->next < shared->count && !shared->error) {
    const auto index = shared->next++;
    try {
      co_await (*shared->task)(index);
    } catch (...) {
      if (!shared->error) shared->error = std::current_exception();
    }
  }
}

}  // namespace

asio::awaitable<void> for_each_bounded(std::size_t count, std::size_t limit,
                                       const IndexedTask& task) {
  if (count == 0) co_return;
  auto shared = std::make_shared<Shared>();
  shared->task = &task;
  shared->count = count;
  const auto executor = co_await asio::this_coro::executor;
  using Operation = decltype(asio::co_spawn(executor, worker(shared), asio::deferred));
  std::vector<Operation> workers;
  const auto n = std::clamp<std::size_t>(limit, 1, count);
  workers.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    workers.push_back(asio::co_spawn(executor, worker(shared), asio::deferred));
  co_await asio::experimental::make_parallel_group(std::move(workers))
      .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  if (shared->error) std::rethrow_exception(shared->error);
}

}  // namespace pb::async
