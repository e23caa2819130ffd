// From what the warehouses hold to what the store lists: each warehouse's SKU filters, the sum
// over warehouses, listings (warehouse SKU -> store SKU, include/exclude globs) and bundles. The
// result is one feed keyed by store SKU, which the change detector merges like a single
// warehouse's feed; so Full and Smart Sync see the very same figures, and a component's change
// reaches its bundle through the bundle's own quantity.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "connectors/warehouse/feed.hpp"
#include "core/types.hpp"

namespace pb::sync {

// A glob as fnmatch(3) reads it: * ? [...]; '/' is an ordinary character in a SKU.
bool sku_matches(std::string_view sku, const std::vector<std::string>& globs);

class Projection {
 public:
  explicit Projection(const config::ConnectionConfig& config);

  // The store-side feed for `feeds`, one per configured warehouse in order. A SKU held by a
  // bad row in any warehouse holds every store SKU it feeds (the listed one and its bundles),
  // so they keep their previous state rather than take a sum that lacks a part. Blocking and
  // linear in the rows; runs on the pool.
  connectors::Feed project(std::vector<connectors::Feed> feeds) const;

  // The store SKU a warehouse SKU is listed as, or empty when the listings leave it out.
  std::string store_sku(const std::string& warehouse_sku) const;

  // True when the store feed is the warehouse feed as it is: one warehouse, no filters, no
  // listings, no bundles.
  bool identity() const { return identity_; }

  // True when each store SKU comes from at most one warehouse SKU of one warehouse: no bundles,
  // no two warehouse SKUs listed as one. Then a part of a feed (a delta) projects on its own.
  bool row_by_row() const { return row_by_row_; }

 private:
  struct Source {
    std::vector<std::string> skus, exclude_skus;
  };
  // The steps of project(), in order. What the engine remembers of a single warehouse's read.
  static connectors::Feed remembered(const std::vector<connectors::Feed>& feeds);
  // Each warehouse's SKU filters, then the sum over warehouses: keyed by warehouse SKU.
  // Consumes `feeds`.
  connectors::Feed filter_and_sum(std::vector<connectors::Feed>& feeds) const;
  // Listings: the rows and held SKUs of `stock` under their store SKUs, into `out`.
  void apply_listings(connectors::Feed& stock, connectors::Feed& out) const;
  // Bundles, from the warehouse quantities of their components in `stock`, into `out`.
  void add_bundles(const connectors::Feed& stock, connectors::Feed& out) const;
  // Sorted, one row per store SKU (summed), and no row for a held SKU.
  static void settle(connectors::Feed& out);

  std::vector<Source> sources_;
  config::ListingsConfig listings_;
  std::vector<config::BundleConfig> bundles_;
  bool identity_ = true;
  bool row_by_row_ = true;
};

}  // namespace pb::sync
