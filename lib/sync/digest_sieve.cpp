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
  if (spoiled_ || !digest_) return false;
  const std::size_t at = locate(sku);
  const bool found = at < size_ && digest_->sku(at) == sku;
  cursor_ = found ? at + 1 : at;
  if (!found) return false;
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
