#include "connectors/store/csv/csv_store.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "async/offload.hpp"
#include "connectors/store/csv/csv_store_file.hpp"

namespace pb::connectors {
namespace {

// Two pushes to one file at once would both merge into the old file and the second rename
// would drop the first's changes. Keyed by path rather than held per store because a reload
// can create a second CsvStore for the same file while the old one is still pushing.
std::shared_ptr<std::mutex> file_lock(const std::filesystem::path& path) {
  static std::mutex registry_mutex;
  static std::map<std::filesystem::path, std::shared_ptr<std::mutex>> registry;
  const std::lock_guard guard(registry_mutex);
  auto& lock = registry[path.lexically_normal()];
  if (!lock) lock = std::make_shared<std::mutex>();
  return lock;
}

}  // namespace

boost::asio::awaitable<std::vector<PushResult>> CsvStore::push(std::vector<PushItem> batch,
                                                               PushContext context) {
  const std::size_t count = batch.size();
  // A named local, not a temporary in the co_await expression: g++ 12 mishandles the lifetime
  // of such temporaries (the batch was freed twice).
  // The results are built on the pool too: a million of them is ~40 MB the
  // event loop should not stop to fault in.
  auto work = [path = config_.path, lock = file_lock(config_.path), batch = std::move(batch),
               count] {
    const std::lock_guard guard(*lock);
    apply_to_store_file(path, batch);
    return std::vector<PushResult>(count, PushResult{PushOutcome::confirmed, {}});
  };
  co_return co_await async::offload(context.pool, std::move(work));
}

}  // namespace pb::connectors
