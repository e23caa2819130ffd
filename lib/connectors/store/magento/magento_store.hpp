// The `type: magento` store: sets the quantities of one Multi-Source Inventory source of a
// Magento 2 / Adobe Commerce store (POST /rest/{store_code}/V1/inventory/source-items), for
// SKUs found by a walk of the catalogue kept in LMDB. See magento_store.cpp for the rules.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/store/store.hpp"
#include "net/http_session.hpp"

namespace pb::connectors {

class MagentoApi;
struct MagentoPush;

class MagentoStore final : public Store {
 public:
  MagentoStore(config::MagentoStoreConfig config, const StoreDeps& deps);
  // Talks through `session` (tests) instead of opening connections to config.url.
  MagentoStore(config::MagentoStoreConfig config, const StoreDeps& deps,
               std::shared_ptr<net::HttpSession> session);
  ~MagentoStore() override;

  std::size_t max_batch() const override;

  // Reads the token file (at every run: a rotated token needs no reload), checks that the source
  // exists, and walks the catalogue when the map is not complete or older than catalogue_refresh.
  boost::asio::awaitable<void> prepare(PushContext context) override;

  // Sends the SKUs the map knows (and that hold a quantity); rejects the others. A call Magento
  // refuses as a whole is split until the refused SKUs stand alone.
  boost::asio::awaitable<std::vector<PushResult>> push(std::vector<PushItem> batch,
                                                       PushContext context) override;

  // "magento https://shop.example.com (source default)"
  std::string describe() const override;

 private:
  std::chrono::milliseconds refresh_after() const;
  boost::asio::awaitable<void> check_source();
  boost::asio::awaitable<void> walk(const PushContext& context);
  boost::asio::awaitable<void> find_unknown(const PushContext& context, MagentoPush& work);
  boost::asio::awaitable<void> send_part(MagentoPush& work, std::size_t begin, std::size_t end);
  void learn_limit(std::size_t max, const std::string& text);

  config::MagentoStoreConfig config_;
  boost::asio::any_io_executor io_;
  std::string connection_;
  std::shared_ptr<net::HttpSession> session_;
  std::shared_ptr<net::ExchangeObserver> exchanges_;
  std::unique_ptr<StoreIdCache> cache_;
  std::unique_ptr<MagentoApi> api_;     // remade by each prepare() with the token read then
  std::optional<std::string> refused_;  // the token refused in prepare(): push() throws it
  std::size_t per_call_;                // items a call; lowered by the store's input limit
  bool limit_logged_ = false;
};

}  // namespace pb::connectors
