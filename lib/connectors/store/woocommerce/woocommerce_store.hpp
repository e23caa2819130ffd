// The `type: woocommerce` store: sets stock through the WooCommerce REST API v3
// (products/batch and products/{id}/variations/batch, 100 objects a request,
// `concurrency` requests at once), finding each SKU's product or variation in
// an id map kept in LMDB. See woocommerce_store.cpp for how the map is mended.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/store/store.hpp"
#include "net/http_session.hpp"

namespace pb::connectors {

class WooCommerceApi;
class WooIdIndex;
struct WooRequestTally;
struct WooLookup;
struct WooPush;

class WooCommerceStore final : public Store {
 public:
  WooCommerceStore(config::WooCommerceStoreConfig config, const StoreDeps& deps);
  // Talks through `session` (tests) instead of opening connections to config.url.
  WooCommerceStore(config::WooCommerceStoreConfig config, const StoreDeps& deps,
                   std::shared_ptr<net::HttpSession> session);
  ~WooCommerceStore() override;

  // 100 objects a request, times the requests in flight, times 8 rounds.
  std::size_t max_batch() const override;

  // Reads the key files (at every run: a rotated key needs no reload), and walks the
  // whole catalogue when the id map is not complete or is older than `catalogue_refresh`.
  // A refused key is thrown by the next push(), so that the SKUs of its batch carry the
  // message.
  boost::asio::awaitable<void> prepare(PushContext context) override;

  // A SKU is confirmed when every product or variation carrying it answered with the
  // quantity sent. Throws StoreError (Retry::no) when the store refuses the key or when
  // no request of the push got an answer after its retries.
  boost::asio::awaitable<std::vector<PushResult>> push(std::vector<PushItem> batch,
                                                       PushContext context) override;

  // "woocommerce https://shop.example.com"
  std::string describe() const override;

 private:
  std::size_t concurrency() const;
  std::chrono::milliseconds refresh_after() const;
  boost::asio::awaitable<void> walk(const PushContext& context);
  boost::asio::awaitable<void> look_up(const std::vector<std::string>& skus,
                                       const std::vector<std::uint64_t>& parents,
                                       const PushContext& context, WooRequestTally& tally,
                                       WooLookup& out);
  // push()'s steps: each item's targets from the id map, then a lookup of the unknown ones
  // (returns the items to send); after the first round, the items answered with an id the
  // store no longer has, looked up again and sent once more.
  boost::asio::awaitable<std::vector<std::size_t>> find_targets(const PushContext& context,
                                                                WooPush& work);
  boost::asio::awaitable<void> resend_stale(const PushContext& context,
                                            const std::vector<std::size_t>& sent, WooPush& work);

  config::WooCommerceStoreConfig config_;
  boost::asio::any_io_executor io_;
  std::string connection_;
  std::shared_ptr<net::HttpSession> session_;         // made at the first prepare(), then kept
  std::shared_ptr<net::ExchangeObserver> exchanges_;  // wraps session_ when it is made
  std::unique_ptr<WooIdIndex> index_;
  std::unique_ptr<WooCommerceApi> api_;  // remade by each prepare() with fresh credentials
  std::optional<std::string> refused_;   // the key refused in prepare(): push() throws it
};

}  // namespace pb::connectors
