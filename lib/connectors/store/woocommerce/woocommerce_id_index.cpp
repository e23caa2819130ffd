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

WooIdIndex::WooIdIndex(std::unique_ptr<StoreIdCache> cache) : cache_(std::move(cache)) {}

bool WooIdIndex::complete() {
  return cache_->complete();
}

UnixMillis WooIdIndex::walked_at() {
  return cache_->completed_at();
}

std::vector<std::optional<std::vector<WooTarget>>> WooIdIndex::find(
    const std::vector<std::string>& skus) {
  std::vector<std::optional<std::vector<WooTarget>>> out;
  out.reserve(skus.size());
  for (auto& id : cache_->find(skus)) out.push_back(id ? decode_targets(*id) : std::nullopt);
  return out;
}

void WooIdIndex::replace_all(const SkuTargets& targets, UnixMillis now) {
  cache_->replace_all(encoded(targets), now);
}

void WooIdIndex::put(const SkuTargets& targets) {
  cache_->put(encoded(targets));
}

void WooIdIndex::erase(const std::vector<std::string>& skus) {
  cache_->erase(skus);
}

}  // namespace pb::connectors
