// The Shopify store connector: sets "available" quantities at one location
// through the GraphQL Admin API (inventorySetQuantities, 250 a call, each with
// an idempotency key derived from its content), mapping SKUs to inventory
// items through a catalogue walk cached in LMDB, and pacing its calls by the
// cost bucket Shopify reports. See shopify_*.hpp for the parts.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/store/shopify/shopify_catalogue.hpp"
#include "connectors/store/shopify/shopify_client.hpp"
#include "connectors/store/shopify/shopify_id_map.hpp"
#include "connectors/store/store.hpp"
#include "net/http_session.hpp"
#include "net/retry.hpp"

namespace pb::connectors {

namespace shopify {
struct Line;
}  // namespace shopify

class ShopifyStore final : public Store {
 public:
  // SKUs a run looks up by search, beyond the cached catalogue (new variants,
  // and items Shopify no longer knows). The rest are rejected as not found and
  // looked up again by a later run. At 50 SKUs a query: at most 20 searches.
  static constexpr std::size_t kLookupsPerRun = 1000;
  // Calls made for one group of quantities when Shopify rejects some of them
  // (it applies a call all or nothing, so the rest are sent again, without the
  // rejected ones, under a new key). Each round decides at least one quantity.
  static constexpr int kMaxRounds = 5;

  ShopifyStore(config::ShopifyStoreConfig config, const StoreDeps& deps);
  // Talks through `session` instead of opening one (tests), retrying with `retry`.
  // Without `result_sessions` (to reach a bulk operation's result), the catalogue
  // is read in pages.
  ShopifyStore(config::ShopifyStoreConfig config, const StoreDeps& deps,
               std::shared_ptr<net::HttpSession> session, net::RetryOptions retry = {},
               shopify::ResultSessions result_sessions = {});
  ~ShopifyStore() override;

  std::size_t max_batch() const override;
  // Reads the access token (every run: a rotated token needs no reload), then
  // walks the catalogue (shopify_catalogue.hpp: a bulk operation, resumable) unless a complete map
  // for this endpoint and location is cached (and, with catalogue_refresh, younger than that), in
  // which case a 1-point query proves the token instead. A refused token is thrown by the next
  // push(), so that the SKUs of its batch carry the message.
  boost::asio::awaitable<void> prepare(PushContext context) override;
  boost::asio::awaitable<std::vector<PushResult>> push(std::vector<PushItem> batch,
                                                       PushContext context) override;
  std::string describe() const override;

  const shopify::CallStats& stats() const;

 private:
  boost::asio::awaitable<void> look_up(const std::vector<std::size_t>& which,
                                       const std::vector<std::string>& skus,
                                       std::vector<shopify::ItemIds>& ids,
                                       std::vector<std::optional<PushResult>>& verdicts,
                                       const PushContext& context, const std::string& not_found);
  boost::asio::awaitable<void> send_lines(std::vector<shopify::Line>& lines,
                                          const std::vector<PushItem>& batch,
                                          const std::string& reference_uri);
  boost::asio::awaitable<void> send_rounds(std::vector<shopify::Line>& lines,
                                           std::vector<std::size_t> pending,
                                           const std::vector<PushItem>& batch,
                                           const std::string& reference_uri);

  config::ShopifyStoreConfig config_;
  std::string connection_;
  std::string endpoint_;
  std::unique_ptr<shopify::GraphqlClient> client_;
  std::unique_ptr<shopify::IdMap> id_map_;
  shopify::ResultSessions result_sessions_;
  std::size_t lookups_left_ = kLookupsPerRun;
  bool prepared_ = false;
  std::optional<std::string> refused_;  // the token refused in prepare(): push() throws it
};

}  // namespace pb::connectors
