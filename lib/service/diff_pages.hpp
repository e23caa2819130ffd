// `diff` in pages: the changes a Smart Sync would push after a feed, walked in
// SKU order a page at a time (each step its own read transaction, resuming
// after the last SKU it handed out), bounded by count and bytes like
// inventory's pages. The total counts every change, listed or not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "connectors/warehouse/feed.hpp"
#include "service/inventory_pages.hpp"
#include "state/inventory_db.hpp"
#include "sync/change_detector.hpp"
#include "sync/rules.hpp"

namespace pb::service {

boost::json::object change_json(const sync::PlannedChange& change);
// An upper bound on the serialized size of change_json(change).
std::size_t change_bytes_bound(const sync::PlannedChange& change);

struct DiffPage {
  boost::json::array changes;
  std::size_t bytes = 0;
  bool last = false;                      // nothing follows; total is final
  std::uint64_t total = 0;                // changes seen so far (all of them, once last)
  bool truncated = false;                 // last, and the limit left changes out
  std::optional<std::string> next_after;  // when truncated: where the next listing starts
};

class DiffPager {
 public:
  // `feed` and `rules` must outlive the pager. Lists the changes after `after` (all when none),
  // at most `limit` (0: no limit), and counts them all, listed or not.
  DiffPager(state::InventoryDb& db, std::string connection, const connectors::Feed& feed,
            const sync::Rules& rules, std::optional<std::string> after, std::uint64_t limit,
            PageBounds bounds = {});

  // Walks on until the page is full or the walk ends, in one read transaction. Once the limit
  // is reached it walks to the end to count (nothing more is kept).
  void step();
  bool ready() const { return full_ || done_; }
  DiffPage take();
  // From now on the walk only counts: for a one-page reply, whose total covers every change.
  void count_only() { counting_only_ = true; }

 private:
  state::InventoryDb& db_;
  std::string connection_;
  const connectors::Feed& feed_;
  const sync::Rules& rules_;
  PageBounds bounds_;
  UnixMillis now_;
  std::optional<std::string> position_;         // the last SKU handed out by the walk
  std::optional<sync::PlannedChange> carried_;  // walked, but opens the next page
  std::optional<std::string> last_listed_;
  std::uint64_t limit_;
  std::uint64_t listed_ = 0;
  std::uint64_t total_ = 0;
  DiffPage page_;
  bool full_ = false;
  bool done_ = false;
  bool counting_only_ = false;
};

}  // namespace pb::service
