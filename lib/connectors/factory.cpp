// Builds the connector a configuration names; the only place that knows every connector type.
#include <memory>
#include <variant>

#include "connectors/store/csv_store.hpp"
#include "connectors/store/store.hpp"
#include "connectors/warehouse/csv_warehouse.hpp"
#include "connectors/warehouse/warehouse.hpp"

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
      }},
      config);
}

std::unique_ptr<Store> make_store(const config::StoreConfig& config) {
  return std::visit(Overloaded{[](const config::CsvStoreConfig& c) -> std::unique_ptr<Store> {
                      return std::make_unique<CsvStore>(c);
                    }},
                    config);
}

}  // namespace pb::connectors
