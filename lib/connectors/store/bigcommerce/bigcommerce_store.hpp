// The `type: bigcommerce` store: sets quantities through BigCommerce's REST v3 Inventory API
// (PUT /stores/HASH/v3/inventory/adjustments/absolute, up to 2,000 items a request), sending
// only SKUs the store has, as known from a walk of GET /v3/inventory/items kept in the id cache
// (LMDB in beed). See bigcommerce_store.cpp for how the map is kept right.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/store/refusal_isolation.hpp"
#include "connectors/store/store.hpp"
#include "net/http_session.hpp"
#include "net/retry.hpp"

namespace pb::connectors {

namespace bigcommerce {
class Client;
struct ClientStats;
}  // namespace bigcommerce

class BigCommerceStore final : public Store {
 public:
  // BigCommerce's cap on items per adjustment request (reference/inventory.v3.yml).
  static constexpr std::size_t kMaxItemsPerRequest = 2000;
  // sku:in lookups of SKUs the map lacks, per run (50 SKUs each).
  static constexpr std::size_t kLookupsPerRun = 10;

  BigCommerceStore(config::BigCommerceStoreConfig config, const StoreDeps& deps);
  // Talks through `session` (tests) instead of opening connections to config.endpoint.
  BigCommerceStore(config::BigCommerceStoreConfig config, const StoreDeps& deps,
                   std::shared_ptr<net::HttpSession> session, net::RetryOptions retry = {});
  ~BigCommerceStore() override;

  std::size_t max_batch() const override { return kMaxItemsPerRequest; }

  // Reads the token file (at every run: a rotated token needs no reload) and walks the
  // store's inventory items when the SKU map is not complete or older than
  // catalogue_refresh. A refused token is thrown by the next push(), so that the SKUs of its
  // batch carry the message.
  boost::asio::awaitable<void> prepare(PushContext context) override;

  // One absolute adjustment for the SKUs the store has; a 422 (which names no item) is split
  // until the refused SKUs stand alone. SKUs the store does not have are rejected unsent.
  boost::asio::awaitable<std::vector<PushResult>> push(std::vector<PushItem> batch,
                                                       PushContext context) override;

  // "bigcommerce store abc123 location 1"
  std::string describe() const override;

  const bigcommerce::ClientStats& stats() const;
  const IsolationStats& isolation_stats() const { return isolation_; }

 private:
  struct Work;
  boost::asio::awaitable<void> walk(const PushContext& context);
  boost::asio::awaitable<void> resolve_unknown(Work& work, const PushContext& context);
  boost::asio::awaitable<void> mark_gone(Work& work, const std::vector<std::size_t>& refused,
                                         const PushContext& context);
  boost::asio::awaitable<WholeBatchVerdict> adjust(std::span<const PushItem> items,
                                                   const std::string& reason);

  config::BigCommerceStoreConfig config_;
  std::string connection_;
  std::unique_ptr<bigcommerce::Client> client_;
  std::unique_ptr<StoreIdCache> ids_;
  std::optional<std::string> refused_;  // the token refused in prepare(): push() throws it
  bool prepared_ = false;
  std::size_t lookups_left_ = kLookupsPerRun;
  IsolationStats isolation_;
};

}  // namespace pb::connectors
