#include "connectors/store/vendure/vendure_id_index.hpp"

#include <algorithm>
#include <string_view>

namespace pb::connectors::vendure {
namespace {

// add_variants() never stores "-" as an id, so this mark cannot be taken for a variant.
constexpr std::string_view kNotInStore = "-";

std::string encode(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) out += ',';
    out += id;
  }
  return out;
}

std::vector<std::string> decode(std::string_view text) {
  std::vector<std::string> ids;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto id = text.substr(0, comma);
    if (!id.empty()) ids.emplace_back(id);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return ids;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> walk_entries(const SkuVariants& variants) {
  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(variants.size());
  for (const auto& [sku, ids] : variants)
    if (!ids.empty()) entries.emplace_back(sku, encode(ids));
  return entries;
}

void merge_with_cached(StoreIdCache& cache,
                       std::vector<std::pair<std::string, std::string>>& entries) {
  std::vector<std::string> skus;
  skus.reserve(entries.size());
  for (const auto& entry : entries) skus.push_back(entry.first);
  const auto cached = cache.find(skus);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    // A walk's own entries only: begin_walk() dropped the not-in-store marks.
    if (!cached[i] || *cached[i] == kNotInStore) continue;
    auto ids = decode(*cached[i]);
    for (auto& id : decode(entries[i].second))
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
    entries[i].second = encode(ids);
  }
}

void add_variants(SkuVariants& into,
                  const std::vector<std::pair<std::string, std::string>>& pairs) {
  for (const auto& [sku, id] : pairs) {
    // An id holding ',' could not be told apart once encoded; Vendure's ids never do.
    if (id.empty() || id.find(',') != std::string::npos || id == kNotInStore) continue;
    auto& ids = into[sku];
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
}

IdIndex::IdIndex(std::unique_ptr<StoreIdCache> cache) : cache_(std::move(cache)) {}

bool IdIndex::complete() {
  return cache_->complete();
}

UnixMillis IdIndex::walked_at() {
  return cache_->completed_at();
}

std::vector<std::optional<std::vector<std::string>>> IdIndex::find(
    const std::vector<std::string>& skus) {
  std::vector<std::optional<std::vector<std::string>>> out;
  out.reserve(skus.size());
  for (auto& id : cache_->find(skus)) {
    if (!id)
      out.emplace_back(std::nullopt);
    else if (*id == kNotInStore)
      out.emplace_back(std::vector<std::string>{});
    else if (auto ids = decode(*id); !ids.empty())
      out.emplace_back(std::move(ids));
    else
      out.emplace_back(std::nullopt);  // unreadable: looked up again
  }
  return out;
}

void IdIndex::replace_all(const SkuVariants& variants, UnixMillis now) {
  cache_->replace_all(walk_entries(variants), now);
}

void IdIndex::put(const SkuVariants& variants) {
  cache_->put(walk_entries(variants));
}

void IdIndex::put_not_in_store(const std::vector<std::string>& skus) {
  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(skus.size());
  for (const auto& sku : skus) entries.emplace_back(sku, std::string(kNotInStore));
  cache_->put(entries);
}

void IdIndex::erase(const std::vector<std::string>& skus) {
  cache_->erase(skus);
}

}  // namespace pb::connectors::vendure
