// The `type: medusa` store: sets stocked_quantity at one stock location of a Medusa v2 server
// through its Admin API, finding each SKU's inventory item in an id map kept in LMDB. See
// medusa_store.cpp for how the map is kept right, medusa_levels.hpp for the writes.
#pragma once

#include <cstddef>
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

namespace medusa {
class Api;
struct MedusaPush;
enum class WriteRoute;
}  // namespace medusa

class MedusaStore final : public Store {
 public:
  MedusaStore(config::MedusaStoreConfig config, const StoreDeps& deps);
  // Talks through `session` (tests) instead of opening connections to config.url.
  MedusaStore(config::MedusaStoreConfig config, const StoreDeps& deps,
              std::shared_ptr<net::HttpSession> session);
  ~MedusaStore() override;

  // Batch requests of kBatchLimit, kBatchConcurrency in flight, a few rounds per push.
  std::size_t max_batch() const override;

  // Reads the key file (at every run: a rotated key needs no reload), and walks the inventory
  // items when the map is not complete or older than `catalogue_refresh`. A refused key is
  // thrown by the next push(), so that the SKUs of its batch carry the message.
  boost::asio::awaitable<void> prepare(PushContext context) override;

  // A SKU is confirmed when Medusa's reply shows its quantity at the location. Throws
  // StoreError (Retry::no) when the key is refused or no request of the push got an answer.
  boost::asio::awaitable<std::vector<PushResult>> push(std::vector<PushItem> batch,
                                                       PushContext context) override;

  // "medusa https://medusa.example.com sloc_..."
  std::string describe() const override;

 private:
  boost::asio::awaitable<void> walk(const PushContext& context, UnixMillis walked_at);
  boost::asio::awaitable<void> resumable_walk(const PushContext& context);
  boost::asio::awaitable<void> find_items(const PushContext& context, medusa::MedusaPush& work);
  boost::asio::awaitable<void> write(const PushContext& context, medusa::MedusaPush& work,
                                     const std::vector<std::size_t>& items);
  boost::asio::awaitable<void> retry_refused(const PushContext& context, medusa::MedusaPush& work,
                                             const std::vector<std::size_t>& sent);

  config::MedusaStoreConfig config_;
  boost::asio::any_io_executor io_;
  std::string connection_;
  std::shared_ptr<net::HttpSession> session_;  // made at the first prepare(), then kept
  std::shared_ptr<net::ExchangeObserver> exchanges_;
  std::unique_ptr<StoreIdCache> cache_;
  std::unique_ptr<medusa::Api> api_;    // remade by each prepare() with the key read afresh
  medusa::WriteRoute route_{};          // unknown until a batch request tells
  std::optional<std::string> refused_;  // the key refused in prepare(): push() throws it
};

}  // namespace pb::connectors
