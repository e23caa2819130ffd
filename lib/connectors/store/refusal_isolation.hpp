// Pushing to a platform whose write call is all-or-nothing: BigCommerce's absolute adjustments
// (a 422 with no per-item list), Magento's source-items (one transaction), a Vendure mutation.
// One bad SKU would otherwise keep a whole batch of good ones pending forever.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "connectors/store/store.hpp"

namespace pb::connectors {

// What the platform answered to one all-or-nothing write.
struct WholeBatchVerdict {
  bool accepted = true;
  std::string message;  // refused: the platform's words, given to the refused items

  static WholeBatchVerdict taken() { return {}; }
  static WholeBatchVerdict refused(std::string why) { return {false, std::move(why)}; }
};

// How many calls the isolation made, for the connector's log line and the tests.
struct IsolationStats {
  std::size_t calls = 0;
  std::size_t refused_calls = 0;
};

// Writes `items` with `send`, a callable taking a std::span<const Item> and returning
// awaitable<WholeBatchVerdict>. A refused call is split in halves and each half sent again,
// until every refused item stands alone and is rejected with the platform's message; every
// other item is confirmed. k bad items among n cost at most about 2k·log2(n/k) extra calls,
// and a batch with none costs one. Calls are made one after another, so the caller's pacing
// applies to each. A failure that is not a refusal (network, 5xx, 401) is thrown by `send`
// as StoreError and ends the isolation: the caller's batch stays pending as a whole.
// Returns one PushResult per item, in order.
template <class Item, class Send>
boost::asio::awaitable<std::vector<PushResult>> push_isolating_refusals(
    std::span<const Item> items, Send& send, IsolationStats* stats = nullptr) {
  std::vector<PushResult> results(items.size());
  // Ranges still to send, as [begin, end); a stack so the first half goes first.
  std::vector<std::pair<std::size_t, std::size_t>> pending;
  if (!items.empty()) pending.emplace_back(0, items.size());
  while (!pending.empty()) {
    const auto [begin, end] = pending.back();
    pending.pop_back();
    const auto part = items.subspan(begin, end - begin);
    WholeBatchVerdict verdict = co_await send(part);
    if (stats) {
      ++stats->calls;
      if (!verdict.accepted) ++stats->refused_calls;
    }
    if (verdict.accepted) continue;  // results are confirmed by default
    if (part.size() == 1) {
      results[begin] = {PushOutcome::rejected, std::move(verdict.message)};
      continue;
    }
    const std::size_t middle = begin + part.size() / 2;
    pending.emplace_back(middle, end);
    pending.emplace_back(begin, middle);
  }
  co_return results;
}

}  // namespace pb::connectors
