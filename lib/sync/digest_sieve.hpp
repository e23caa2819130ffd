// The Smart Sync's sieve: the last applied feed's digest (change_detector_digest.hpp) handed to
// the warehouse reader, so that a row the digest holds as it is never becomes a FeedRow. A 1 %
// change of a 1M-row feed then keeps 10,000 rows instead of building and comparing a million.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "connectors/warehouse/feed.hpp"
#include "connectors/warehouse/warehouse.hpp"
#include "core/types.hpp"
#include "log/fields.hpp"
#include "sync/change_detector_digest.hpp"
#include "sync/rules.hpp"

namespace pb::sync {

// The lines of a read through a sieve (DigestSieve::take_lines): in `memo`, each line's hash
// and the entry of the sieve's digest it named, or kNewEntry for a SKU that digest did not
// hold, named in `new_skus` (line, SKU).
struct LinesDraft {
  static constexpr std::uint32_t kNewEntry = 0xFFFF'FFFEU;
  LineMemo memo;
  std::vector<std::pair<std::uint32_t, std::string>> new_skus;
};

// Answers the reader from `digest`, remembering which entries it answered true for (sieved) and
// which SKUs the read named at all (seen). Used by one read at a time: not thread-safe.
class DigestSieve final : public connectors::FeedSieve {
 public:
  explicit DigestSieve(std::shared_ptr<const FeedDigest> digest);

  // Sorted input costs a compare or two per row: a cursor moves forward through the digest;
  // input that goes backwards takes a binary search. A SKU of the digest named twice (a
  // duplicate, summed or refused later) spoils the sieve: every answer is then false, and the
  // rows already dropped make the feed unusable (the caller reads again without a sieve).
  bool known(std::string_view sku, Quantity quantity) override;
  void restart() override;
  // Line by line: the digest's LineMemo, when it has one of this layout, answers for the lines
  // that are as they were, in the order they were (a changed, new or moved line is parsed, and
  // its row's entry puts the old lines back in step). Meanwhile the read's own lines are noted,
  // for take_lines.
  bool lines_begin(std::uint64_t layout) override;
  bool known_line(std::uint64_t hash) override;

  // The read's lines, once it is over, when each named one SKU (no bad row) and no SKU of the
  // digest came twice; settle_lines makes them the next digest's LineMemo. Empty otherwise.
  std::optional<LinesDraft> take_lines();
  std::uint64_t lines_known() const { return lines_known_; }

  bool spoiled() const { return spoiled_; }
  // Whether the digest's entry `index` was answered true (its row dropped, its quantity equal).
  bool sieved(std::size_t index) const { return test(sieved_, index); }
  // The first entry at or after `index` that was not sieved; the digest's size if none.
  std::size_t next_unsieved(std::size_t index) const;
  std::uint64_t count() const { return count_; }
  const FeedDigest* digest() const { return digest_.get(); }
  // Lets the digest go (the run may then change it in place); digest() is null afterwards.
  void release() { digest_.reset(); }

 private:
  static bool test(const std::vector<std::uint64_t>& bits, std::size_t i) {
    return (bits[i / 64] >> (i % 64)) & 1U;
  }
  static void set(std::vector<std::uint64_t>& bits, std::size_t i) {
    bits[i / 64] |= std::uint64_t{1} << (i % 64);
  }
  // The index of the first digest entry not less than `sku`, starting from the cursor.
  std::size_t locate(std::string_view sku);
  // The line offered last (known_line: not known) holds entry `at`'s row.
  void line_names(std::size_t at);

  std::shared_ptr<const FeedDigest> digest_;
  std::size_t size_ = 0;  // the digest's entries (kept after release)
  std::vector<std::uint64_t> sieved_;
  std::vector<std::uint64_t> seen_;
  std::size_t cursor_ = 0;  // where the next SKU of sorted input is expected
  std::uint64_t count_ = 0;
  bool spoiled_ = false;

  // Line by line (lines_begin).
  std::shared_ptr<const LineMemo> old_lines_;  // the digest's, when of the read's layout
  std::shared_ptr<LineMemo> new_lines_;        // the read's, as they come
  std::vector<std::pair<std::uint32_t, std::string>> new_skus_;  // LinesDraft::new_skus
  std::size_t line_cursor_ = 0;                                  // the old line expected next
  bool awaiting_ = false;      // the last line offered was parsed: its row names its entry
  bool lines_broken_ = false;  // a line named no entry: new_lines_ will not do
  std::uint64_t lines_known_ = 0;
};

// The LineMemo of `digest`, the digest the read's feed left (patched from one of `old_size`
// entries by `diffs`, or requantified in place, or unchanged), from that read's lines: their
// entries moved as patch_digest moved them, new SKUs found. Null when the lines do not name
// each of its entries exactly once (a duplicate of a new SKU, say) or there is no draft.
std::shared_ptr<const LineMemo> settle_lines(std::optional<LinesDraft> draft, std::size_t old_size,
                                             const std::vector<Difference>& diffs,
                                             const FeedDigest& digest);

// A sieve for a read whose feed will be compared with `digest` under `rules`; null when the
// digest cannot apply whatever the feed (none, or made with other rules) or does not sieve.
std::shared_ptr<DigestSieve> sieve_for(const std::shared_ptr<FeedDigest>& digest,
                                       const Rules& rules);

// Why a feed read through `sieve` cannot be used (its dropped rows are needed: the full merge
// or a spoiled sieve), or empty when it can. A feed that dropped nothing is always usable.
std::string_view sieved_feed_unusable(const connectors::Feed& feed, const DigestSieve& sieve);

// What a read through a sieve leaves for the detect phase.
struct SievedRead {
  std::shared_ptr<DigestSieve> sieve;  // set when the feed dropped rows: differences_of needs it
  bool spoiled = false;  // a SKU of the digest came twice: the next digest sieves no more
};

// Reads `request` through `sieve` (may be null: a whole read), and once more without it when the
// sieved feed cannot be used (logged at debug level). This happens once at a transition: a feed
// with bad rows holding SKUs leaves no digest, and one with duplicates a digest that does not
// sieve (FeedDigest::sieve). A coroutine on the caller's executor; the reads on `pool`.
boost::asio::awaitable<connectors::Feed> read_through(connectors::Warehouse& warehouse,
                                                      boost::asio::any_io_executor pool,
                                                      connectors::ReadRequest request,
                                                      std::shared_ptr<DigestSieve> sieve,
                                                      const log::Fields& fields, SievedRead& out);

// The feed's differences from `digest`: through `sieve` when the feed was read with it (then the
// sieve lets the digest go, so the caller may change it in place). Throws std::logic_error for a
// feed that dropped rows with no sieve or another digest to account for them.
std::vector<Difference> differences_of(const connectors::Feed& feed, const FeedDigest& digest,
                                       std::shared_ptr<DigestSieve> sieve);

}  // namespace pb::sync
