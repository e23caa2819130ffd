// Isolating the items an all-or-nothing write refuses (BigCommerce, Magento, Vendure).
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "connectors/store/refusal_isolation.hpp"
#include "test_support.hpp"

using namespace pb;
using connectors::PushItem;
using connectors::PushOutcome;
using connectors::WholeBatchVerdict;

namespace {

// A platform that refuses a whole call when any of its SKUs is in `bad`, and records what it
// took: the test checks both the verdicts and that a good item was written exactly once.
struct AllOrNothingPlatform {
  std::set<std::string> bad;
  std::vector<std::string> written;
  std::size_t calls = 0;

  boost::asio::awaitable<WholeBatchVerdict> operator()(std::span<const PushItem> part) {
    ++calls;
    for (const auto& item : part)
      if (bad.count(item.sku)) co_return WholeBatchVerdict::refused("bad sku " + item.sku);
    for (const auto& item : part) written.push_back(item.sku);
    co_return WholeBatchVerdict::taken();
  }
};

std::vector<PushItem> items(std::size_t n) {
  std::vector<PushItem> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back({"S" + std::to_string(1000 + i), 1});
  return out;
}

auto isolate(std::vector<PushItem>& batch, AllOrNothingPlatform& platform,
             connectors::IsolationStats& stats) {
  return test::run_with_pool([&](auto) {
    return connectors::push_isolating_refusals(std::span<const PushItem>(batch), platform, &stats);
  });
}

}  // namespace

TEST_CASE("refusal isolation: a clean batch is one call, every item confirmed") {
  auto batch = items(2000);
  AllOrNothingPlatform platform;
  connectors::IsolationStats stats;
  const auto results = isolate(batch, platform, stats);
  REQUIRE(results.size() == 2000);
  for (const auto& r : results) CHECK(r.outcome == PushOutcome::confirmed);
  CHECK(platform.calls == 1);
  CHECK(stats.calls == 1);
  CHECK(stats.refused_calls == 0);
}

TEST_CASE("refusal isolation: bad items are rejected with the platform's words, the rest pushed") {
  auto batch = items(2000);
  AllOrNothingPlatform platform;
  platform.bad = {"S1000", "S1777", "S2999"};
  connectors::IsolationStats stats;
  const auto results = isolate(batch, platform, stats);
  REQUIRE(results.size() == batch.size());
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (platform.bad.count(batch[i].sku)) {
      CHECK(results[i].outcome == PushOutcome::rejected);
      CHECK(results[i].message == "bad sku " + batch[i].sku);
      ++rejected;
    } else {
      CHECK(results[i].outcome == PushOutcome::confirmed);
    }
  }
  CHECK(rejected == 3);
  // Every good item written once, no bad one written.
  CHECK(platform.written.size() == 1997);
  CHECK(std::set<std::string>(platform.written.begin(), platform.written.end()).size() == 1997);
  // k bad among n: at most 2k·log2(n) + 1 calls, far fewer than one per item.
  CHECK(stats.calls <= 2 * 3 * 11 + 1);
  CHECK(stats.refused_calls >= 3);
}

TEST_CASE("refusal isolation: a batch of one refused item, and an empty batch") {
  auto one = items(1);
  AllOrNothingPlatform platform;
  platform.bad = {"S1000"};
  connectors::IsolationStats stats;
  auto results = isolate(one, platform, stats);
  REQUIRE(results.size() == 1);
  CHECK(results[0].outcome == PushOutcome::rejected);
  CHECK(stats.calls == 1);

  std::vector<PushItem> none;
  connectors::IsolationStats empty_stats;
  results = isolate(none, platform, empty_stats);
  CHECK(results.empty());
  CHECK(empty_stats.calls == 0);
}

TEST_CASE("refusal isolation: a failure that is not a refusal ends it and propagates") {
  auto batch = items(8);
  std::size_t calls = 0;
  auto failing = [&](std::span<const PushItem> part) -> boost::asio::awaitable<WholeBatchVerdict> {
    ++calls;
    if (part.size() < 8) throw connectors::StoreError("503 from the store");
    co_return WholeBatchVerdict::refused("one of these is bad");
  };
  CHECK_THROWS_WITH_AS(test::run_with_pool([&](auto) {
                         return connectors::push_isolating_refusals(
                             std::span<const PushItem>(batch), failing);
                       }),
                       "503 from the store", connectors::StoreError);
  CHECK(calls == 2);
}
