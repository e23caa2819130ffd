#include "connectors/store/woocommerce/woocommerce_id_index.hpp"

#include <string_view>
#include <utility>

namespace pb::connectors {
namespace {

// Not what encode_targets() writes (ids are digits), so never taken for a target.
constexpr std::string_view kNotInStore = "-";

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
  for (auto& id : cache_->find(skus)) {
    if (id && *id == kNotInStore)
      out.emplace_back(std::vector<WooTarget>{});
    else
      out.push_back(id ? decode_targets(*id) : std::nullopt);
  }
  return out;
}

void WooIdIndex::replace_all(const SkuTargets& targets, UnixMillis now) {
  cache_->replace_all(encoded(targets), now);
}

void WooIdIndex::put(const SkuTargets& targets) {
  cache_->put(encoded(targets));
}

void WooIdIndex::put_not_in_store(const std::vector<std::string>& skus) {
  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(skus.size());
  for (const auto& sku : skus) entries.emplace_back(sku, std::string(kNotInStore));
  cache_->put(entries);
}

void WooIdIndex::erase(const std::vector<std::string>& skus) {
  cache_->erase(skus);
}

}  // namespace pb::connectors
