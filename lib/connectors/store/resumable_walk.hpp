// A paged catalogue walk (SKU -> the platform's ids) that a stop or a kill does not send back to
// page one: each page's entries are committed to the StoreIdCache together with where the walk
// goes on from, and a run that finds a checkpoint of the same kind goes on from there. One
// driver for every store whose first walk reads pages; the store says how to read a page.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "connectors/store/store.hpp"
#include "connectors/store/store_id_cache.hpp"

namespace pb::connectors {

// What one step of a walk read: one page, or a wave of pages read together.
struct WalkPage {
  // SKU -> encoded ids, committed with `next` in one transaction.
  std::vector<std::pair<std::string, std::string>> entries;
  // Where the walk goes on from ("page 8", a cursor...; never empty: an empty position marks
  // a walk whose last step is committed); nullopt: this was the last step.
  std::optional<std::string> next;
  std::uint64_t listed = 0;  // catalogue entries this step read (the progress counter)
  std::uint64_t total = 0;   // how many the platform says there are; 0: it does not say
};

using ReadWalkPage = std::function<boost::asio::awaitable<WalkPage>(const std::string& position)>;

struct ResumableWalk {
  // Names the kind of walk, first in the checkpoint ("bigcommerce-items"): a checkpoint of
  // another kind (an older version's walk) is not resumed; the walk begins again. No spaces.
  std::string kind;
  std::string first_position;  // where a new walk begins
  std::string platform;        // "BigCommerce", for the message of a stopped walk
  ReadWalkPage read_page;
  // Optional, run on the pool before a step is committed: for a store whose SKU may have ids
  // on several pages, merges `entries` with what the cache already holds (walk_step replaces).
  std::function<void(StoreIdCache&, std::vector<std::pair<std::string, std::string>>&)> merge;
};

struct ResumableWalkResult {
  bool resumed = false;      // went on from a checkpoint found at the start
  std::uint64_t listed = 0;  // entries listed over the whole walk, the resumed part included
  std::uint64_t steps = 0;   // steps read by this run
};

// Runs `walk` into `cache` to its end and marks the map complete. Stops between steps when
// context.stop_requested() (StoreError, not retried: the next run goes on from the
// checkpoint), and throws what read_page throws (the checkpoint stays where it was). Shows
// the progress through context.progress. Cache calls run on context.pool.
boost::asio::awaitable<ResumableWalkResult> run_resumable_walk(StoreIdCache& cache,
                                                               const PushContext& context,
                                                               const ResumableWalk& walk);

// The same walk read whole into memory, from walk.first_position, with the same stop checks and
// progress, for a refresh of a complete map: the caller replaces the map with the result only
// once it is whole, so the old map serves meanwhile and if the refresh fails. walk.merge and
// walk.kind are not used.
boost::asio::awaitable<std::vector<std::pair<std::string, std::string>>> read_walk_whole(
    const PushContext& context, const ResumableWalk& walk);

// The checkpoint text: "KIND LISTED\nPOSITION" (exposed for tests).
std::string encode_walk_checkpoint(std::string_view kind, std::uint64_t listed,
                                   std::string_view position);
struct WalkCheckpoint {
  std::uint64_t listed = 0;
  std::string position;
};
// nullopt when `text` is not a checkpoint of `kind`.
std::optional<WalkCheckpoint> decode_walk_checkpoint(std::string_view kind, std::string_view text);

}  // namespace pb::connectors
