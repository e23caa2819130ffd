#include "connectors/store/woocommerce/woocommerce_id_index.hpp"

#include <utility>

namespace pb::connectors {
namespace {

std::vector<std::pair<std::string, std::string>> encoded(const SkuTargets& targets) {
  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(targets.size());
  for (const auto& [sku, list] : targets) entries.emplace_back(sku, encode_targets(list));
  return entries;
}

}  // namespace

WooIdIndex::WooIdIndex(state::InventoryDb* db, std::string connection, std::string fingerprint) {
  if (db != nullptr)
    cache_ = std::make_unique<StoreIdCache>(*db, std::move(connection), std::move(fingerprint));
}

bool WooIdIndex::complete() {
  return cache_ ? cache_->complete() : memory_walked_at_ != 0;
}

UnixMillis WooIdIndex::walked_at() {
  return cache_ ? cache_->completed_at() : memory_walked_at_;
}

std::vector<std::optional<std::vector<WooTarget>>> WooIdIndex::find(
    const std::vector<std::string>& skus) {
  std::vector<std::optional<std::vector<WooTarget>>> out;
  out.reserve(skus.size());
  if (cache_) {
    for (auto& id : cache_->find(skus)) out.push_back(id ? decode_targets(*id) : std::nullopt);
  } else {
    for (const auto& sku : skus) {
      const auto it = memory_.find(sku);
      out.push_back(it == memory_.end() ? std::nullopt : std::make_optional(it->second));
    }
  }
  return out;
}

void WooIdIndex::replace_all(const SkuTargets& targets, UnixMillis now) {
  if (cache_) {
    cache_->replace_all(encoded(targets), now);
  } else {
    memory_ = targets;
    memory_walked_at_ = now;
  }
}

void WooIdIndex::put(const SkuTargets& targets) {
  if (cache_) {
    cache_->put(encoded(targets));
  } else {
    for (const auto& [sku, list] : targets) memory_[sku] = list;
  }
}

void WooIdIndex::erase(const std::vector<std::string>& skus) {
  if (cache_) {
    cache_->erase(skus);
  } else {
    for (const auto& sku : skus) memory_.erase(sku);
  }
}

}  // namespace pb::connectors
