#include "connectors/store/resumable_walk.hpp"

#include <charconv>
#include <exception>

#include "async/offload.hpp"
#include "core/types.hpp"

namespace pb::connectors {

std::string encode_walk_checkpoint(std::string_view kind, std::uint64_t listed,
                                   std::string_view position) {
  std::string text(kind);
  text += ' ';
  text += std::to_string(listed);
  text += '\n';
  text += position;
  return text;
}

std::optional<WalkCheckpoint> decode_walk_checkpoint(std::string_view kind, std::string_view text) {
  if (!text.starts_with(kind) || text.size() <= kind.size() || text[kind.size()] != ' ')
    return std::nullopt;
  text.remove_prefix(kind.size() + 1);
  const auto newline = text.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  WalkCheckpoint checkpoint;
  const auto* end = text.data() + newline;
  const auto [stopped, error] = std::from_chars(text.data(), end, checkpoint.listed);
  if (error != std::errc{} || stopped != end) return std::nullopt;
  checkpoint.position = std::string(text.substr(newline + 1));
  return checkpoint;
}

namespace {

// Where to begin: the recorded checkpoint when it is this kind's, else a new walk (which
// drops whatever an unfinished walk of another kind left).
boost::asio::awaitable<WalkCheckpoint> start(StoreIdCache& cache, const PushContext& context,
                                             const ResumableWalk& walk, bool& resumed) {
  auto read = [&cache] { return cache.walk_checkpoint(); };
  const auto recorded = co_await async::offload(context.pool, read);
  if (recorded) {
    if (auto checkpoint = decode_walk_checkpoint(walk.kind, *recorded)) {
      resumed = true;
      co_return std::move(*checkpoint);
    }
  }
  WalkCheckpoint fresh{0, walk.first_position};
  const auto text = encode_walk_checkpoint(walk.kind, 0, fresh.position);
  co_await async::offload(context.pool, [&] { cache.begin_walk(text); });
  co_return fresh;
}

// mapping_done() however the walk ends, so the run's phase does not stay "mapping".
struct MappingDone {
  MappingProgress* progress;
  ~MappingDone() {
    if (progress) progress->mapping_done();
  }
};

}  // namespace

boost::asio::awaitable<std::vector<std::pair<std::string, std::string>>> read_walk_whole(
    const PushContext& context, const ResumableWalk& walk) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::uint64_t listed = 0;
  std::string position = walk.first_position;
  MappingDone done{context.progress};
  for (;;) {
    if (context.stop_requested())
      throw StoreError(
          "stopped during the " + walk.platform + " catalogue refresh (the old map is kept)",
          StoreError::Retry::no);
    auto page = co_await walk.read_page(position);
    listed += page.listed;
    if (context.progress) context.progress->mapping(listed, page.total);
    for (auto& entry : page.entries) entries.push_back(std::move(entry));
    if (!page.next) break;
    position = std::move(*page.next);
  }
  co_return entries;
}

boost::asio::awaitable<ResumableWalkResult> run_resumable_walk(StoreIdCache& cache,
                                                               const PushContext& context,
                                                               const ResumableWalk& walk) {
  ResumableWalkResult result;
  auto at = co_await start(cache, context, walk, result.resumed);
  result.listed = at.listed;
  MappingDone done{context.progress};
  if (context.progress) context.progress->mapping(result.listed, 0);

  // An empty position is the last step's checkpoint: a kill came between its commit and
  // finish_walk(), so there is nothing left to read.
  for (bool more = !(result.resumed && at.position.empty()); more;) {
    if (context.stop_requested())
      throw StoreError(
          "stopped during the " + walk.platform + " catalogue walk (it resumes on the next run)",
          StoreError::Retry::no);
    auto page = co_await walk.read_page(at.position);
    ++result.steps;
    result.listed += page.listed;
    // The last step's checkpoint is never read back: finish_walk() drops it.
    const auto next = encode_walk_checkpoint(walk.kind, result.listed, page.next.value_or(""));
    co_await async::offload(context.pool, [&] {
      if (walk.merge) walk.merge(cache, page.entries);
      cache.walk_step(page.entries, next);
      page.entries = {};  // freed on the pool, not on the loop
    });
    if (context.progress) context.progress->mapping(result.listed, page.total);
    more = page.next.has_value();
    if (more) at.position = std::move(*page.next);
  }
  co_await async::offload(context.pool, [&cache] { cache.finish_walk(now_millis()); });
  co_return result;
}

}  // namespace pb::connectors
