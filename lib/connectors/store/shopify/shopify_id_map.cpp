#include "connectors/store/shopify/shopify_id_map.hpp"

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

IdMap::IdMap(state::InventoryDb* db, std::string connection, std::string fingerprint) {
  if (db != nullptr) cache_.emplace(*db, std::move(connection), std::move(fingerprint));
}

bool IdMap::complete() {
  return cache_ ? cache_->complete() : memory_complete_;
}

std::vector<ItemIds> IdMap::find(const std::vector<std::string>& skus) {
  std::vector<ItemIds> out;
  out.reserve(skus.size());
  if (cache_) {
    for (auto& value : cache_->find(skus))
      out.push_back(value ? decode_item_ids(*value) : ItemIds{});
  } else {
    for (const auto& sku : skus) {
      const auto it = memory_.find(sku);
      out.push_back(it == memory_.end() ? ItemIds{} : decode_item_ids(it->second));
    }
  }
  return out;
}

void IdMap::replace_all(std::vector<std::pair<std::string, ItemIds>> entries) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(entries.size());
  for (auto& [sku, ids] : entries) encoded.emplace_back(std::move(sku), encode_item_ids(ids));
  entries = {};
  if (cache_) {
    cache_->replace_all(std::move(encoded), now_millis());
  } else {
    memory_.clear();
    for (auto& [sku, value] : encoded) memory_[std::move(sku)] = std::move(value);
    memory_complete_ = true;
  }
}

void IdMap::put(const std::vector<std::pair<std::string, ItemIds>>& entries) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [sku, ids] : entries) encoded.emplace_back(sku, encode_item_ids(ids));
  if (cache_)
    cache_->put(encoded);
  else
    for (auto& [sku, value] : encoded) memory_[sku] = std::move(value);
}

void IdMap::erase(const std::vector<std::string>& skus) {
  if (cache_)
    cache_->erase(skus);
  else
    for (const auto& sku : skus) memory_.erase(sku);
}

}  // namespace pb::connectors::shopify
