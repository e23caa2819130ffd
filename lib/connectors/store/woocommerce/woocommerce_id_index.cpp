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

std::optional<std::string> WooIdIndex::walk_checkpoint() {
  return cache_->walk_checkpoint();
}

void WooIdIndex::begin_walk(const std::string& checkpoint) {
  cache_->begin_walk(checkpoint);
}

void WooIdIndex::walk_step(const SkuTargets& targets, const std::string& checkpoint) {
  std::vector<std::string> skus;
  skus.reserve(targets.size());
  for (const auto& entry : targets) skus.push_back(entry.first);
  const auto stored = find(skus);
  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(skus.size());
  for (std::size_t i = 0; i < skus.size(); ++i) {
    auto merged = stored[i].value_or(std::vector<WooTarget>{});
    for (const auto& t : targets.at(skus[i])) add_target(merged, t);
    entries.emplace_back(skus[i], encode_targets(merged));
  }
  cache_->walk_step(entries, checkpoint);
}

void WooIdIndex::finish_walk(UnixMillis now) {
  cache_->finish_walk(now);
}

}  // namespace pb::connectors
