// In-memory warehouse and store for engine tests: the warehouse serves a feed
// the test sets; the store records every push and can be told to reject SKUs
// or fail transiently.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "connectors/store/store.hpp"
#include "connectors/warehouse/warehouse.hpp"

namespace pb::test {

inline connectors::Feed make_feed(std::map<std::string, Quantity> rows) {
  connectors::Feed feed;
  feed.origin = "memory";
  for (auto& [sku, qty] : rows) feed.rows.push_back({sku, qty, 0});
  return feed;
}

class MemoryWarehouse : public connectors::Warehouse {
 public:
  connectors::Feed feed;
  bool fail = false;
  connectors::ReadRequest last_request;
  int reads = 0;  // read() calls

  boost::asio::awaitable<connectors::Feed> read(boost::asio::any_io_executor pool,
                                                connectors::ReadRequest request) override {
    (void)pool;
    ++reads;
    last_request = request;
    if (fail) throw connectors::WarehouseError("warehouse unreachable");
    co_return feed;
  }
  std::string describe() const override { return "memory"; }
};

class MemoryStore : public connectors::Store {
 public:
  std::map<std::string, Quantity> quantities;            // what the store holds
  std::vector<std::vector<connectors::PushItem>> calls;  // every push, in order
  std::set<std::string> unknown_skus;                    // rejected
  int transient_failures = 0;                            // next N calls throw StoreError
  std::size_t batch_limit = 1000;
  std::function<void()> on_push;  // called at the start of every push
  bool die_after_apply = false;   // apply, then fail as a killed beed would
  bool final_failures = false;    // the StoreErrors above say "do not retry in this run"
  int prepared = 0;               // prepare() calls
  bool prepare_fails = false;     // prepare() throws StoreError (e.g. no credentials)

  std::size_t max_batch() const override { return batch_limit; }
  boost::asio::awaitable<void> prepare(connectors::PushContext context) override {
    (void)context;
    ++prepared;
    if (prepare_fails)
      throw connectors::StoreError("cannot read access_token_file /etc/t: Permission denied",
                                   connectors::StoreError::Retry::no);
    co_return;
  }
  boost::asio::awaitable<std::vector<connectors::PushResult>> push(
      std::vector<connectors::PushItem> batch, connectors::PushContext context) override {
    (void)context;
    calls.push_back(batch);
    if (on_push) on_push();
    if (transient_failures > 0) {
      --transient_failures;
      throw connectors::StoreError(
          "503 Service Unavailable",
          final_failures ? connectors::StoreError::Retry::no : connectors::StoreError::Retry::yes);
    }
    std::vector<connectors::PushResult> results;
    for (const auto& item : batch) {
      if (unknown_skus.count(item.sku)) {
        results.push_back({connectors::PushOutcome::rejected, "unknown SKU " + item.sku});
      } else {
        quantities[item.sku] = item.quantity;
        results.push_back({connectors::PushOutcome::confirmed, {}});
      }
    }
    // Not a StoreError: nothing catches it before the run ends, so the
    // store's answer is never recorded, as if beed had been killed here.
    if (die_after_apply) throw std::runtime_error("killed after the store applied the batch");
    co_return results;
  }
  std::string describe() const override { return "memory"; }

  std::set<std::string> pushed_skus(std::size_t call) const {
    std::set<std::string> out;
    for (const auto& item : calls.at(call)) out.insert(item.sku);
    return out;
  }
  std::size_t total_pushed() const {
    std::size_t n = 0;
    for (const auto& c : calls) n += c.size();
    return n;
  }
};

}  // namespace pb::test
