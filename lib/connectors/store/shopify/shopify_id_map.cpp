#include "connectors/store/shopify/shopify_id_map.hpp"

#include <algorithm>
#include <unordered_map>

#include "core/types.hpp"

namespace pb::connectors::shopify {

std::string encode_item_ids(const ItemIds& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) out += ' ';
    out += id;
  }
  return out;
}

ItemIds decode_item_ids(std::string_view value) {
  ItemIds ids;
  while (!value.empty()) {
    const auto space = value.find(' ');
    const auto part = value.substr(0, space);
    if (!part.empty()) ids.emplace_back(part);
    if (space == std::string_view::npos) break;
    value.remove_prefix(space + 1);
  }
  return ids;
}

IdMap::IdMap(std::unique_ptr<StoreIdCache> cache) : cache_(std::move(cache)) {}

bool IdMap::complete() {
  return cache_->complete();
}

UnixMillis IdMap::walked_at() {
  return cache_->completed_at();
}

std::vector<ItemIds> IdMap::find(const std::vector<std::string>& skus) {
  std::vector<ItemIds> out;
  out.reserve(skus.size());
  for (auto& value : cache_->find(skus)) out.push_back(value ? decode_item_ids(*value) : ItemIds{});
  return out;
}

void IdMap::replace_all(std::vector<std::pair<std::string, ItemIds>> entries) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(entries.size());
  for (auto& [sku, ids] : entries) encoded.emplace_back(std::move(sku), encode_item_ids(ids));
  entries = {};
  cache_->replace_all(std::move(encoded), now_millis());
}

void IdMap::put(const std::vector<std::pair<std::string, ItemIds>>& entries) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [sku, ids] : entries) encoded.emplace_back(sku, encode_item_ids(ids));
  cache_->put(encoded);
}

void IdMap::erase(const std::vector<std::string>& skus) {
  cache_->erase(skus);
}

std::optional<std::string> IdMap::walk_checkpoint() {
  return cache_->walk_checkpoint();
}

void IdMap::begin_walk(const std::string& checkpoint) {
  cache_->begin_walk(checkpoint);
}

void IdMap::walk_step(const std::vector<std::pair<std::string, std::string>>& sku_items,
                      const std::string& checkpoint) {
  // The SKUs in first-seen order, each with its items; then what the walk stored before.
  std::vector<std::string> skus;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<ItemIds> ids;
  for (const auto& [sku, item] : sku_items) {
    const auto [it, added] = index.try_emplace(sku, skus.size());
    if (added) {
      skus.push_back(sku);
      ids.emplace_back();
    }
    ids[it->second].push_back(item);
  }
  const auto stored = cache_->find(skus);
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(skus.size());
  for (std::size_t i = 0; i < skus.size(); ++i) {
    ItemIds merged = stored[i] ? decode_item_ids(*stored[i]) : ItemIds{};
    for (auto& id : ids[i])
      if (std::find(merged.begin(), merged.end(), id) == merged.end()) merged.push_back(id);
    encoded.emplace_back(skus[i], encode_item_ids(merged));
  }
  cache_->walk_step(encoded, checkpoint);
}

void IdMap::finish_walk() {
  cache_->finish_walk(now_millis());
}

}  // namespace pb::connectors::shopify
