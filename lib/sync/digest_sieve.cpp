// The Smart Sync's sieve; see digest_sieve.hpp.
#include "sync/digest_sieve.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <utility>

#include "async/offload.hpp"
#include "log/log.hpp"

namespace pb::sync {
namespace {

// Forward steps tried one by one before a binary search: a few SKUs gone from the feed between
// two rows are the usual gap in sorted input.
constexpr int kForwardSteps = 8;

// A line whose row's entry is not known yet (LineMemo::entries).
constexpr std::uint32_t kNoEntry = 0xFFFF'FFFFU;

}  // namespace

DigestSieve::DigestSieve(std::shared_ptr<const FeedDigest> digest)
    : digest_(std::move(digest)),
      size_(digest_ ? digest_->size() : 0),
      sieved_((size_ + 63) / 64, 0),
      seen_((size_ + 63) / 64, 0) {}

std::size_t DigestSieve::locate(std::string_view sku) {
  const FeedDigest& d = *digest_;
  std::size_t at = cursor_;
  if (at < size_) {
    const int order = sku.compare(d.sku(at));
    if (order == 0) return at;
    if (order > 0) {
      for (int step = 0; step < kForwardSteps; ++step) {
        if (++at == size_ || sku.compare(d.sku(at)) <= 0) return at;
      }
      return d.lower_bound(sku, at + 1, size_);
    }
  }
  // `sku` sorts before the cursor's entry (or the cursor is at the end): it belongs right there
  // unless the input went backwards.
  if (at == 0 || sku.compare(d.sku(at - 1)) > 0) return at;
  return d.lower_bound(sku, 0, at);
}

bool DigestSieve::known(std::string_view sku, Quantity quantity) {
  const bool offered = std::exchange(awaiting_, false);
  if (new_lines_ && !offered) lines_broken_ = true;  // a row not on a line of its own
  if (spoiled_ || !digest_) return false;
  const std::size_t at = locate(sku);
  const bool found = at < size_ && digest_->sku(at) == sku;
  cursor_ = found ? at + 1 : at;
  if (!found) {
    if (offered && !lines_broken_) {  // a new SKU: its entry is known once the digest is patched
      new_lines_->entries.back() = LinesDraft::kNewEntry;
      new_skus_.emplace_back(static_cast<std::uint32_t>(new_lines_->size() - 1), sku);
    }
    return false;
  }
  if (offered) line_names(at);
  if (test(seen_, at)) {
    // A duplicate: its rows are summed or refused, so none of them is the digest's row as it
    // was, and one may be gone already. Nothing more is dropped; the caller reads again.
    spoiled_ = true;
    return false;
  }
  set(seen_, at);
  if (digest_->quantities[at] != quantity) return false;
  set(sieved_, at);
  ++count_;
  return true;
}

void DigestSieve::restart() {
  std::fill(sieved_.begin(), sieved_.end(), 0);
  std::fill(seen_.begin(), seen_.end(), 0);
  cursor_ = 0;
  count_ = 0;
  spoiled_ = false;
  old_lines_.reset();
  new_lines_.reset();
  new_skus_.clear();
  line_cursor_ = 0;
  awaiting_ = false;
  lines_broken_ = false;
  lines_known_ = 0;
}

bool DigestSieve::lines_begin(std::uint64_t layout) {
  if (!digest_ || spoiled_ || size_ > kNoEntry) return false;
  const auto& old = digest_->lines;
  old_lines_ = old && old->layout == layout && old->size() == size_ ? old : nullptr;
  new_lines_ = std::make_shared<LineMemo>();
  new_lines_->layout = layout;
  new_lines_->hashes.reserve(size_);
  new_lines_->entries.reserve(size_);
  return true;
}

bool DigestSieve::known_line(std::uint64_t hash) {
  if (std::exchange(awaiting_, false)) {
    // The last line gave no row the digest holds (a bad row): the next old line is likelier.
    lines_broken_ = true;
    ++line_cursor_;
  }
  if (spoiled_ || !digest_ || !new_lines_) return false;
  if (old_lines_ && line_cursor_ < old_lines_->size() && old_lines_->hashes[line_cursor_] == hash) {
    // The old line, byte for byte: its row was entry `at`'s SKU and quantity (LineMemo).
    const std::size_t at = old_lines_->entry(line_cursor_);
    if (test(seen_, at)) {  // a second line for it: a duplicate, as known() would find
      spoiled_ = true;
      return false;
    }
    set(seen_, at);
    set(sieved_, at);
    ++count_;
    ++lines_known_;
    ++line_cursor_;
    cursor_ = at + 1;
    if (!lines_broken_) {
      new_lines_->hashes.push_back(hash);
      new_lines_->entries.push_back(static_cast<std::uint32_t>(at));
    }
    return true;
  }
  if (!lines_broken_) {
    new_lines_->hashes.push_back(hash);
    new_lines_->entries.push_back(kNoEntry);
  }
  awaiting_ = true;
  return false;
}

void DigestSieve::line_names(std::size_t at) {
  if (!lines_broken_) new_lines_->entries.back() = static_cast<std::uint32_t>(at);
  if (old_lines_) line_cursor_ = old_lines_->line(at) + 1;
}

std::optional<LinesDraft> DigestSieve::take_lines() {
  if (!new_lines_ || lines_broken_ || awaiting_ || spoiled_) return std::nullopt;
  LinesDraft draft{std::move(*new_lines_), std::move(new_skus_)};
  new_lines_.reset();
  return draft;
}

std::shared_ptr<const LineMemo> settle_lines(std::optional<LinesDraft> draft, std::size_t old_size,
                                             const std::vector<Difference>& diffs,
                                             const FeedDigest& digest) {
  const std::size_t n = digest.size();
  if (!draft || draft->memo.size() != n || n >= LinesDraft::kNewEntry) return nullptr;
  auto& entries = draft->memo.entries;
  const bool reshaped = std::any_of(diffs.begin(), diffs.end(),
                                    [](const Difference& d) { return !d.was || !d.quantity; });
  if (reshaped) {
    // Each old entry's place in the patched digest, as patch_digest copies them (kNoEntry: gone).
    std::vector<std::uint32_t> moved(old_size, kNoEntry);
    std::size_t next_old = 0, next_new = 0;
    const auto copy_to = [&](std::size_t end) {
      for (; next_old < end && next_old < old_size; ++next_old)
        moved[next_old] = static_cast<std::uint32_t>(next_new++);
    };
    for (const auto& d : diffs) {
      copy_to(d.at);
      if (d.was) {
        if (d.quantity && next_old < old_size)
          moved[next_old] = static_cast<std::uint32_t>(next_new++);
        ++next_old;
      } else if (d.quantity) {
        ++next_new;  // a new entry
      }
    }
    copy_to(old_size);
    if (next_new != n) return nullptr;
    for (auto& e : entries)
      if (e != LinesDraft::kNewEntry) e = e < old_size ? moved[e] : kNoEntry;
  }
  for (const auto& [line, sku] : draft->new_skus) {
    const std::size_t at = digest.lower_bound(sku, 0, n);
    if (at == n || digest.sku(at) != sku) return nullptr;
    entries[line] = static_cast<std::uint32_t>(at);
  }
  // Each entry named once: a gone SKU's line, or two lines of one new SKU, leave it unusable.
  std::vector<bool> named(n, false);
  bool in_order = true;
  for (std::size_t i = 0; i < n; ++i) {
    const auto e = entries[i];
    if (e >= n || named[e]) return nullptr;
    named[e] = true;
    in_order = in_order && e == i;
  }
  auto memo = std::make_shared<LineMemo>(std::move(draft->memo));
  if (in_order) {
    std::vector<std::uint32_t>().swap(memo->entries);
  } else {
    memo->lines.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i)
      memo->lines[memo->entries[i]] = static_cast<std::uint32_t>(i);
  }
  return memo;
}

std::size_t DigestSieve::next_unsieved(std::size_t index) const {
  while (index < size_) {
    // The bits from `index` on in its word, ones where not sieved (past size_: zero bits, so
    // ones here, and the min below).
    const std::uint64_t open = ~sieved_[index / 64] >> (index % 64);
    if (open != 0) return std::min(size_, index + static_cast<std::size_t>(std::countr_zero(open)));
    index = (index / 64 + 1) * 64;
  }
  return size_;
}

std::shared_ptr<DigestSieve> sieve_for(const std::shared_ptr<FeedDigest>& digest,
                                       const Rules& rules) {
  if (!digest || !digest->sieve || !same_rules(digest->rules, rules)) return nullptr;
  return std::make_shared<DigestSieve>(digest);
}

std::string_view sieved_feed_unusable(const connectors::Feed& feed, const DigestSieve& sieve) {
  if (feed.sieved == 0) return {};
  if (sieve.spoiled()) return "a SKU of the last feed appears twice";
  if (!feed.held_skus.empty()) return "bad rows hold SKUs (the full merge needs every row)";
  if (feed.unchanged || feed.delta) return "the source did not send a whole feed";
  if (feed.sieved != sieve.count()) return "the reader's count of dropped rows disagrees";
  return {};
}

boost::asio::awaitable<connectors::Feed> read_through(connectors::Warehouse& warehouse,
                                                      boost::asio::any_io_executor pool,
                                                      connectors::ReadRequest request,
                                                      std::shared_ptr<DigestSieve> sieve,
                                                      const log::Fields& fields, SievedRead& out) {
  request.sieve = sieve;
  auto feed = co_await warehouse.read(pool, request);
  const auto why = sieve ? sieved_feed_unusable(feed, *sieve) : std::string_view{};
  if (why.empty()) {
    if (feed.sieved > 0) out.sieve = std::move(sieve);
    co_return std::move(feed);
  }
  log::debug(fields, "run {}: reading {} again, whole: {}", fields.run, feed.origin, why);
  out.spoiled = sieve->spoiled();
  co_await async::offload(pool, [&] { feed = connectors::Feed{}; });  // not on the loop
  request.sieve = nullptr;
  co_return co_await warehouse.read(pool, request);
}

std::vector<Difference> differences_of(const connectors::Feed& feed, const FeedDigest& digest,
                                       std::shared_ptr<DigestSieve> sieve) {
  if (!sieve) {
    if (feed.sieved > 0) throw std::logic_error("the feed's dropped rows have no sieve");
    return differences(feed, digest);
  }
  if (sieve->digest() != &digest)
    throw std::logic_error("the feed was read through another digest than the one it meets");
  auto out = differences(feed, digest, *sieve);
  sieve->release();
  return out;
}

}  // namespace pb::sync
