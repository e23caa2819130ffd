// The `type: vendure` store: sets stock through a Vendure 3 server's Admin API (GraphQL
// updateProductVariants, kVariantsPerCall variants a call, one call at a time), finding each
// SKU's variants in an id map kept in LMDB. See vendure_store.cpp for how the map is mended.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/store/store.hpp"
#include "net/http_session.hpp"

namespace pb::connectors {

struct WalkPage;

namespace vendure {
struct VariantPage;
class Client;
class IdIndex;
struct PushWork;

// Variants per updateProductVariants call. Vendure runs a call as one transaction and refuses
// request bodies over ~100 KiB with HTTP 500; a variant costs ~75 bytes with stockLevels, so
// 250 stay near 20 KiB. Measured on Vendure 3.7.3 with SQLite (2 busy cores): 50 variants
// took 0.7 s, 250 took 5.6 s, 500 took 8.8 s: past ~50 a variant costs 15-20 ms whatever the
// call's size, so larger calls gain little, while 250 keeps a call far inside the 60 s request
// deadline on a slower server and a refused call cheap to bisect.
inline constexpr std::size_t kVariantsPerCall = 250;
}  // namespace vendure

class VendureStore final : public Store {
 public:
  VendureStore(config::VendureStoreConfig config, const StoreDeps& deps);
  // Talks through `session` (tests) instead of opening connections to config.url.
  VendureStore(config::VendureStoreConfig config, const StoreDeps& deps,
               std::shared_ptr<net::HttpSession> session);
  ~VendureStore() override;

  // A few calls per push: between two pushes the engine commits verdicts.
  std::size_t max_batch() const override;

  // Reads the secret files (at every run: a rotated password or key needs no reload), and
  // walks the whole catalogue when the id map is not complete or is older than
  // `catalogue_refresh`. Throws StoreError(Retry::no) when Vendure refuses the credentials.
  boost::asio::awaitable<void> prepare(PushContext context) override;

  // A SKU is confirmed when every variant carrying it took the quantity. A call Vendure
  // refuses is split until the refused variants stand alone (push_isolating_refusals).
  boost::asio::awaitable<std::vector<PushResult>> push(std::vector<PushItem> batch,
                                                       PushContext context) override;

  // "vendure https://shop.example.com/admin-api"
  std::string describe() const override;

 private:
  std::chrono::milliseconds refresh_after() const;
  boost::asio::awaitable<void> walk(const PushContext& context, UnixMillis walked_at);
  boost::asio::awaitable<void> resumable_walk(const PushContext& context);
  // One page of the resumable walk, counted in `pages`.
  boost::asio::awaitable<WalkPage> walk_step(std::size_t skip, std::size_t& pages);
  boost::asio::awaitable<vendure::VariantPage> read_page(std::size_t skip);
  boost::asio::awaitable<void> resolve(const PushContext& context, vendure::PushWork& work);
  boost::asio::awaitable<void> send(const PushContext& context, vendure::PushWork& work);

  config::VendureStoreConfig config_;
  boost::asio::any_io_executor io_;
  std::string connection_;
  std::shared_ptr<net::HttpSession> session_;         // made at the first prepare(), then kept
  std::shared_ptr<net::ExchangeObserver> exchanges_;  // wraps session_ when it is made
  std::unique_ptr<vendure::IdIndex> index_;
  std::unique_ptr<vendure::Client> client_;  // kept across runs: its session stays logged in
};

}  // namespace pb::connectors
