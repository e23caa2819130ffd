#include "connectors/store/memory_store_id_cache.hpp"

namespace pb::connectors {

std::vector<std::optional<std::string>> MemoryStoreIdCache::find(
    const std::vector<std::string>& skus) {
  std::vector<std::optional<std::string>> out;
  out.reserve(skus.size());
  for (const auto& sku : skus) {
    const auto it = ids_.find(sku);
    out.push_back(it == ids_.end() ? std::nullopt : std::make_optional(it->second));
  }
  return out;
}

void MemoryStoreIdCache::replace_all(std::vector<std::pair<std::string, std::string>> entries,
                                     UnixMillis now) {
  ids_.clear();
  for (auto& [sku, id] : entries) ids_.insert_or_assign(std::move(sku), std::move(id));
  completed_at_ = now;
  checkpoint_.reset();
}

void MemoryStoreIdCache::put(const std::vector<std::pair<std::string, std::string>>& entries) {
  for (const auto& [sku, id] : entries) ids_.insert_or_assign(sku, id);
}

void MemoryStoreIdCache::erase(const std::vector<std::string>& skus) {
  for (const auto& sku : skus) ids_.erase(sku);
}

void MemoryStoreIdCache::begin_walk(const std::string& checkpoint) {
  ids_.clear();
  completed_at_ = 0;
  checkpoint_ = checkpoint;
}

void MemoryStoreIdCache::walk_step(const std::vector<std::pair<std::string, std::string>>& entries,
                                   const std::string& checkpoint) {
  put(entries);
  checkpoint_ = checkpoint;
}

void MemoryStoreIdCache::finish_walk(UnixMillis now) {
  completed_at_ = now;
  checkpoint_.reset();
}

std::unique_ptr<StoreIdCache> open_id_cache(const StoreIdCacheFactory& factory,
                                            std::string fingerprint) {
  if (factory) return factory(std::move(fingerprint));
  return std::make_unique<MemoryStoreIdCache>();
}

}  // namespace pb::connectors
