#include "sync/projection.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <limits>

namespace pb::sync {
namespace {

using connectors::Feed;
using connectors::FeedRow;

bool sku_less(const FeedRow& a, const FeedRow& b) {
  return a.sku < b.sku;
}

// Sums the rows of each SKU into one (sorted input in, sorted unique out). A sum that
// overflows saturates: a quantity beyond 9e18 is not a real stock level, and clamping keeps
// the run going rather than failing every SKU.
void sum_duplicates(std::vector<FeedRow>& rows) {
  std::size_t out = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (out > 0 && rows[out - 1].sku == rows[i].sku) {
      Quantity& total = rows[out - 1].quantity;
      if (__builtin_add_overflow(total, rows[i].quantity, &total))
        total = rows[i].quantity > 0 ? std::numeric_limits<Quantity>::max()
                                     : std::numeric_limits<Quantity>::min();
      continue;
    }
    if (out != i) rows[out] = std::move(rows[i]);
    ++out;
  }
  rows.resize(out);
}

bool contains(const std::vector<std::string>& sorted, std::string_view sku) {
  return std::binary_search(sorted.begin(), sorted.end(), sku, [](auto a, auto b) {
    return std::string_view(a) < std::string_view(b);
  });
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

bool sku_matches(std::string_view sku, const std::vector<std::string>& globs) {
  const std::string text(sku);
  for (const auto& glob : globs)
    if (fnmatch(glob.c_str(), text.c_str(), 0) == 0) return true;
  return false;
}

Projection::Projection(const config::ConnectionConfig& config)
    : listings_(config.listings), bundles_(config.bundles) {
  for (const auto& source : config.warehouses) {
    sources_.push_back(Source{source.skus, source.exclude_skus});
    if (!source.skus.empty() || !source.exclude_skus.empty()) identity_ = false;
  }
  if (sources_.size() != 1 || !listings_.map.empty() || !listings_.include.empty() ||
      !listings_.exclude.empty() || !bundles_.empty())
    identity_ = false;
  std::vector<std::string> targets;
  for (const auto& entry : listings_.map) targets.push_back(entry.second);
  std::sort(targets.begin(), targets.end());
  // Two warehouse SKUs listed as one store SKU are summed: a delta holding one of them cannot
  // give the store figure alone. (A warehouse SKU whose own name is another's listing target is
  // the same case; the listings cannot see it coming, so docs/ say to avoid it.)
  const bool shared_target = std::adjacent_find(targets.begin(), targets.end()) != targets.end();
  row_by_row_ = sources_.size() == 1 && bundles_.empty() && !shared_target;
}

std::string Projection::store_sku(const std::string& warehouse_sku) const {
  auto it =
      std::lower_bound(listings_.map.begin(), listings_.map.end(), warehouse_sku,
                       [](const auto& entry, const std::string& key) { return entry.first < key; });
  std::string sku =
      it != listings_.map.end() && it->first == warehouse_sku ? it->second : warehouse_sku;
  if (!listings_.include.empty() && !sku_matches(sku, listings_.include)) return {};
  if (sku_matches(sku, listings_.exclude)) return {};
  return sku;
}

connectors::Feed Projection::project(std::vector<connectors::Feed> feeds) const {
  if (identity_ && feeds.size() == 1) return std::move(feeds.front());
  Feed out = remembered(feeds);
  Feed stock = filter_and_sum(feeds);
  apply_listings(stock, out);
  add_bundles(stock, out);
  settle(out);
  return out;
}

connectors::Feed Projection::remembered(const std::vector<connectors::Feed>& feeds) {
  // A single warehouse's read carries what the engine remembers of it.
  Feed memo;
  if (feeds.size() == 1) {
    memo.unchanged = feeds.front().unchanged;
    memo.delta = feeds.front().delta;
    memo.validator = feeds.front().validator;
    memo.cursor = feeds.front().cursor;
  }
  return memo;
}

connectors::Feed Projection::filter_and_sum(std::vector<connectors::Feed>& feeds) const {
  // Each warehouse's filters, then the sum over warehouses, keyed by warehouse SKU.
  Feed stock;
  for (std::size_t i = 0; i < feeds.size(); ++i) {
    Feed& feed = feeds[i];
    const Source* source = i < sources_.size() ? &sources_[i] : nullptr;
    const auto wanted = [&](std::string_view sku) {
      if (source == nullptr) return true;
      if (!source->skus.empty() && !sku_matches(sku, source->skus)) return false;
      return !sku_matches(sku, source->exclude_skus);
    };
    if (!stock.origin.empty()) stock.origin += " + ";
    stock.origin += feed.origin;
    for (auto& row : feed.rows)
      if (wanted(row.sku)) stock.rows.push_back(std::move(row));
    for (auto& sku : feed.held_skus)
      if (wanted(sku)) stock.held_skus.push_back(std::move(sku));
    for (auto& problem : feed.problems) stock.problems.push_back(std::move(problem));
    feed = Feed{};
  }
  if (feeds.size() > 1) {
    std::stable_sort(stock.rows.begin(), stock.rows.end(), sku_less);
    sum_duplicates(stock.rows);
    sort_unique(stock.held_skus);
  }
  return stock;
}

void Projection::apply_listings(connectors::Feed& stock, connectors::Feed& out) const {
  // The store SKUs bundles define: their own quantity wins over a warehouse SKU that happens
  // to be listed under the same name.
  std::vector<std::string> bundle_skus;
  for (const auto& bundle : bundles_) bundle_skus.push_back(bundle.sku);  // sorted already
  const auto listed_as = [&](const std::string& warehouse_sku) {
    auto sku = store_sku(warehouse_sku);
    if (!sku.empty() && contains(bundle_skus, sku)) sku.clear();
    return sku;
  };

  // Rename, filter, and sum the warehouse SKUs listed as one store SKU (settle sums them).
  out.origin = std::move(stock.origin);
  out.problems = std::move(stock.problems);
  out.rows.reserve(stock.rows.size());
  for (const auto& row : stock.rows) {
    if (contains(stock.held_skus, row.sku)) continue;
    auto sku = listed_as(row.sku);
    if (!sku.empty()) out.rows.push_back(FeedRow{std::move(sku), row.quantity, row.line});
  }
  for (const auto& held : stock.held_skus) {
    auto sku = listed_as(held);
    if (!sku.empty()) out.held_skus.push_back(std::move(sku));
  }
}

void Projection::add_bundles(const connectors::Feed& stock, connectors::Feed& out) const {
  // From the summed warehouse quantities of their components.
  for (const auto& bundle : bundles_) {
    if ((!listings_.include.empty() && !sku_matches(bundle.sku, listings_.include)) ||
        sku_matches(bundle.sku, listings_.exclude))
      continue;
    bool held = false, any = false;
    Quantity quantity = std::numeric_limits<Quantity>::max();
    for (const auto& [component, units] : bundle.components) {
      if (contains(stock.held_skus, component)) held = true;
      auto it = std::lower_bound(stock.rows.begin(), stock.rows.end(), FeedRow{component, 0, 0},
                                 sku_less);
      Quantity have = 0;  // a component no warehouse lists has no stock
      if (it != stock.rows.end() && it->sku == component) {
        have = std::max<Quantity>(0, it->quantity);
        any = true;
      }
      quantity = std::min(quantity, have / units);
    }
    if (held)
      out.held_skus.push_back(bundle.sku);
    else if (any)  // a bundle none of whose parts is listed leaves the snapshot
      out.rows.push_back(FeedRow{bundle.sku, quantity, 0});
  }
}

void Projection::settle(connectors::Feed& out) {
  std::stable_sort(out.rows.begin(), out.rows.end(), sku_less);
  sum_duplicates(out.rows);
  sort_unique(out.held_skus);
  // A held store SKU keeps its previous state: drop any row the other parts gave it.
  if (!out.held_skus.empty())
    std::erase_if(out.rows, [&](const FeedRow& row) { return contains(out.held_skus, row.sku); });
}

}  // namespace pb::sync
