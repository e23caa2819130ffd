#include "sync/connection_sources.hpp"

#include <functional>
#include <stdexcept>

#include "async/offload.hpp"
#include "connectors/factory.hpp"

namespace pb::sync {
namespace {

std::vector<std::shared_ptr<connectors::Warehouse>> build(const config::ConnectionConfig& config) {
  std::vector<std::shared_ptr<connectors::Warehouse>> out;
  for (const auto& source : config.warehouses)
    out.push_back(connectors::make_warehouse(source.connector));
  return out;
}

}  // namespace

ConnectionSources::ConnectionSources(const config::ConnectionConfig& config)
    : ConnectionSources(config, build(config)) {}

ConnectionSources::ConnectionSources(const config::ConnectionConfig& config,
                                     std::vector<std::shared_ptr<connectors::Warehouse>> warehouses)
    : warehouses_(std::move(warehouses)), projection_(config) {
  for (const auto& source : config.warehouses) names_.push_back(source.name);
  if (names_.size() != warehouses_.size() || warehouses_.empty())
    throw std::logic_error("ConnectionSources: one connector per configured warehouse");
  // What the remembered validator and cursor depend on: where the rows come from and which of
  // them reach the store under what name. A change makes the next read a whole one.
  std::string text = describe();
  for (const auto& source : config.warehouses) {
    for (const auto& glob : source.skus) text += "\n+" + glob;
    for (const auto& glob : source.exclude_skus) text += "\n-" + glob;
  }
  for (const auto& [from, to] : config.listings.map) text += "\n" + from + "=" + to;
  for (const auto& glob : config.listings.include) text += "\ni" + glob;
  for (const auto& glob : config.listings.exclude) text += "\ne" + glob;
  fingerprint_ = std::to_string(std::hash<std::string>{}(text));
}

std::string ConnectionSources::remembered_as() const {
  return warehouses_.size() == 1 && projection_.row_by_row() ? names_.front() : std::string();
}

std::string ConnectionSources::fingerprint() const {
  return fingerprint_;
}

boost::asio::awaitable<connectors::Feed> ConnectionSources::read(boost::asio::any_io_executor pool,
                                                                 connectors::ReadRequest request) {
  if (remembered_as().empty()) {
    // A sum or a bundle needs every part: each warehouse gives its whole snapshot.
    request.validator.clear();
    request.cursor.clear();
  }
  // A sieve knows store-side rows (digest_sieve.hpp): a warehouse row is one only as it is.
  if (!projection_.identity()) request.sieve = nullptr;
  std::vector<connectors::Feed> feeds;
  feeds.reserve(warehouses_.size());
  for (std::size_t i = 0; i < warehouses_.size(); ++i) {
    try {
      feeds.push_back(co_await warehouses_[i]->read(pool, request));
    } catch (const connectors::WarehouseError& e) {
      if (warehouses_.size() == 1) throw;
      throw connectors::WarehouseError("warehouse " + names_[i] + ": " + e.what());
    }
    if (warehouses_.size() > 1)
      for (auto& problem : feeds.back().problems)
        problem.message = names_[i] + " (" + feeds.back().origin + "): " + problem.message;
  }
  co_return co_await async::offload(pool, [&] { return projection_.project(std::move(feeds)); });
}

std::string ConnectionSources::describe() const {
  if (warehouses_.size() == 1) return warehouses_.front()->describe();
  std::string out;
  for (std::size_t i = 0; i < warehouses_.size(); ++i) {
    if (i > 0) out += "; ";
    out += names_[i] + ": " + warehouses_[i]->describe();
  }
  return out;
}

}  // namespace pb::sync
