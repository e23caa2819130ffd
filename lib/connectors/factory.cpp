#include "connectors/factory.hpp"

#include <variant>

#include "connectors/store/bigcommerce/bigcommerce_store.hpp"
#include "connectors/store/csv/csv_store.hpp"
#include "connectors/store/magento/magento_store.hpp"
#include "connectors/store/medusa/medusa_store.hpp"
#include "connectors/store/shopify/shopify_store.hpp"
#include "connectors/store/vendure/vendure_store.hpp"
#include "connectors/store/woocommerce/woocommerce_store.hpp"
#include "connectors/warehouse/csv/csv_warehouse.hpp"
#include "connectors/warehouse/http/http_json_warehouse.hpp"
#include "connectors/warehouse/postgres/postgres_warehouse.hpp"

namespace pb::connectors {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

std::unique_ptr<Warehouse> make_warehouse(const config::WarehouseConfig& config) {
  return std::visit(
      Overloaded{[](const config::CsvWarehouseConfig& c) -> std::unique_ptr<Warehouse> {
                   return std::make_unique<CsvWarehouse>(c);
                 },
                 [](const config::PostgresWarehouseConfig& c) -> std::unique_ptr<Warehouse> {
                   return std::make_unique<PostgresWarehouse>(c);
                 },
                 [](const config::HttpJsonWarehouseConfig& c) -> std::unique_ptr<Warehouse> {
                   return std::make_unique<HttpJsonWarehouse>(c);
                 }},
      config);
}

std::unique_ptr<Store> make_store(const config::StoreConfig& config, const StoreDeps& deps) {
  return std::visit(
      Overloaded{[](const config::CsvStoreConfig& c) -> std::unique_ptr<Store> {
                   return std::make_unique<CsvStore>(c);
                 },
                 [&](const config::ShopifyStoreConfig& c) -> std::unique_ptr<Store> {
                   return std::make_unique<ShopifyStore>(c, deps);
                 },
                 [&](const config::WooCommerceStoreConfig& c) -> std::unique_ptr<Store> {
                   return std::make_unique<WooCommerceStore>(c, deps);
                 },
                 [&](const config::BigCommerceStoreConfig& c) -> std::unique_ptr<Store> {
                   return std::make_unique<BigCommerceStore>(c, deps);
                 },
                 [&](const config::MagentoStoreConfig& c) -> std::unique_ptr<Store> {
                   return std::make_unique<MagentoStore>(c, deps);
                 },
                 [&](const config::MedusaStoreConfig& c) -> std::unique_ptr<Store> {
                   return std::make_unique<MedusaStore>(c, deps);
                 },
                 [&](const config::VendureStoreConfig& c) -> std::unique_ptr<Store> {
                   return std::make_unique<VendureStore>(c, deps);
                 }},
      config);
}

}  // namespace pb::connectors
