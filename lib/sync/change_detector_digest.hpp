// The Smart Sync's fast path: what beed kept of the last full feed it applied (a FeedDigest:
// every SKU and quantity, in SKU order), so that a new feed is compared with it in memory and
// only the rows that differ touch LMDB. An unchanged row then costs a string compare, not two
// decodes of its stored item in two cursor walks (58 % of a 1M-SKU Smart Sync before it).
//
// The digest lives in memory, with the connection's RunControl, and over a graceful restart in a
// file stamped with the state it stands for (digest_file.hpp): after a kill, a reload that
// replaces the runner, or any failed write, the next feed takes the full merge again and builds
// a new one. It is valid only while every item it names is stored listed, with its
// quantity and the wanted quantity its rules give, and every other stored item is either
// unlisted or (missing_skus: zero) listed at 0: what a full merge of that feed leaves, and what
// nothing but the change detector's own feed merges changes (pushes write store_quantity,
// confirmed_at, error and in_doubt only).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/warehouse/feed.hpp"
#include "core/types.hpp"
#include "state/inventory_db.hpp"
#include "sync/change_detector.hpp"
#include "sync/rules.hpp"

namespace pb::sync {

class DigestSieve;  // sync/digest_sieve.hpp

// What beed kept of the last feed's lines, for FeedSieve::known_line: each data line's hash in
// the feed's order and the digest entry its row is. Made from a read's lines, each naming one
// SKU, settled for the digest that read left (settle_lines, digest_sieve.hpp). It holds while
// every line's row is its entry's SKU and quantity: a digest whose quantities change drops it.
struct LineMemo {
  std::uint64_t layout = 0;            // FeedSieve::lines_begin's
  std::vector<std::uint64_t> hashes;   // one per line (connectors::line_hash)
  std::vector<std::uint32_t> entries;  // line -> entry; empty when line i is entry i (sorted)
  std::vector<std::uint32_t> lines;    // entry -> line; empty with `entries`

  std::size_t size() const { return hashes.size(); }
  std::size_t entry(std::size_t line) const { return entries.empty() ? line : entries[line]; }
  std::size_t line(std::size_t entry) const { return lines.empty() ? entry : lines[entry]; }
  std::size_t bytes() const {
    return hashes.capacity() * 8 + entries.capacity() * 4 + lines.capacity() * 4;
  }
};

struct FeedDigest {
  Rules rules;                      // the rules its wanted quantities were computed with
  std::string skus;                 // every SKU of the feed, concatenated in SKU order
  std::vector<std::uint32_t> ends;  // where each SKU ends in `skus`
  std::vector<Quantity> quantities;
  std::uint64_t listed = 0;    // stored listed SKUs after that feed (DetectResult::listed)
  std::uint64_t in_stock = 0;  // stored SKUs with quantity > 0 after it
  // False once a read sieved with it met a SKU named twice (DuplicatePolicy::sum): the source
  // writes duplicates, which spoil every sieve, so its reads are no longer sieved (each would
  // be read twice). Kept through patch_digest; a new digest tries again.
  bool sieve = true;
  // The feed's lines, when a read could name them all (null: the next read parses each line).
  std::shared_ptr<const LineMemo> lines;

  std::size_t size() const { return ends.size(); }
  std::string_view sku(std::size_t i) const {
    const std::uint32_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(skus).substr(begin, ends[i] - begin);
  }
  // The first entry in [lo, hi) whose SKU is not less than `sku`; hi if none.
  std::size_t lower_bound(std::string_view sku, std::size_t lo, std::size_t hi) const {
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (this->sku(mid) < sku)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }
  std::size_t bytes() const {
    return skus.capacity() + ends.capacity() * 4 + quantities.capacity() * 8 +
           (lines ? lines->bytes() : 0);
  }
};

// The digest of `feed` once it is applied with `rules` and left `counts`; null when the feed
// cannot be summed up this way (rows held by a bad row, SKUs too many bytes to index).
std::shared_ptr<const FeedDigest> digest_of(const connectors::Feed& feed, const Rules& rules,
                                            const DetectResult& counts);
// digest_of before the counts are known: the caller sets listed and in_stock once applied.
std::shared_ptr<FeedDigest> make_digest(const connectors::Feed& feed, const Rules& rules);

// A SKU where the feed and the digest disagree: new or requantified (a quantity), or gone
// from the feed (none). Owns its SKU, so the feed's rows can go before LMDB is touched.
struct Difference {
  std::string sku;
  std::optional<Quantity> quantity;
  // The digest's quantity when it holds the SKU: the stored item is then known without a
  // lookup (listed, that quantity, its wanted quantity), which the guard's preview uses.
  std::optional<Quantity> was;
  std::size_t at = 0;  // the SKU's index in the digest, or where it would go
};

// One merge of two sorted lists in memory: every row of `feed` that the digest does not hold
// as it is, and every SKU of the digest the feed no longer lists, in SKU order.
std::vector<Difference> differences(const connectors::Feed& feed, const FeedDigest& digest);
// The same for a feed read through `sieve` over `digest`: the same merge, passing over the
// entries whose rows the sieve dropped (equal to them), so it gives what the whole feed would.
// The feed must be usable (sieved_feed_unusable, digest_sieve.hpp).
std::vector<Difference> differences(const connectors::Feed& feed, const FeedDigest& digest,
                                    const DigestSieve& sieve);

// The digest of the feed that differs from `old` by `diffs` (differences(feed, old)), made by
// copying the unchanged runs of `old`: what make_digest(feed, rules) gives, without the feed's
// rows (they can be gone). listed and in_stock are the caller's to set.
std::shared_ptr<FeedDigest> patch_digest(const FeedDigest& old,
                                         const std::vector<Difference>& diffs, const Rules& rules);

// patch_digest in place, when every difference requantifies a SKU `digest` holds (the usual
// Smart Sync): sets their quantities (and drops its lines, whose rows they were) and returns
// true. Otherwise leaves it and returns false.
bool requantify_in_place(FeedDigest& digest, const std::vector<Difference>& diffs);

// The stored totals a digest knows (FeedDigest::listed, in_stock).
struct Totals {
  std::uint64_t listed = 0;
  std::uint64_t in_stock = 0;
};

// Whether a digest made with rules `a` stands for the items stored under rules `b`.
bool same_rules(const Rules& a, const Rules& b);

// Whether `digest` can stand for the stored items when `feed` comes with `rules`.
bool digest_applies(const FeedDigest* digest, const connectors::Feed& feed, const Rules& rules);

// apply_feed, given a digest for which digest_applies: the same guards, the same counts but
// `stale` (the caller looks for stale SKUs now and then, as for a delta), the same writes in
// bounded transactions, and a lookup in LMDB only for a row that differs from the digest.
// Throws FeedRefused (nothing written) or ApplyFailed.
DetectResult apply_feed_with_digest(state::InventoryDb& db, std::string_view connection,
                                    const connectors::Feed& feed, const Rules& rules,
                                    const FeedDigest& digest, UnixMillis now, bool allow_zeroing);

// apply_feed_with_digest once the differences are known (`rows`: the feed's row count,
// `origin`: its name for the guard's message; `base`: the old digest's totals).
DetectResult apply_differences(state::InventoryDb& db, std::string_view connection,
                               const std::vector<Difference>& diffs, std::uint64_t rows,
                               const std::string& origin, const Rules& rules, const Totals& base,
                               UnixMillis now, bool allow_zeroing);

namespace detail {
// Shared with change_detector.cpp; see there.
inline constexpr std::uint64_t kWritesPerTransaction = 50'000;
bool update_item(state::ItemRecord& item, Quantity quantity, const Rules& rules, UnixMillis now,
                 DetectResult& result);
std::uint64_t pending_in(const state::ConnectionTxn& txn);
std::uint64_t window_peak(const std::vector<state::StockMark>& marks, UnixMillis now);
void note_in_stock(state::ConnectionRecord& record, UnixMillis now, std::uint64_t in_stock,
                   bool restart);
void check_zeroing(const DetectResult& preview, std::uint64_t peak, const std::string& origin,
                   std::string_view connection);
ApplyFailed partly_applied(const std::exception& e, const DetectResult& committed);
}  // namespace detail

}  // namespace pb::sync
