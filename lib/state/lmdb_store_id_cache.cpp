#include "state/lmdb_store_id_cache.hpp"

#include "core/sku.hpp"

#include <algorithm>
#include <charconv>
#include <memory>

namespace pb::state {
namespace {

constexpr std::size_t kWritesPerTxn = 50'000;

// Marker layout: "<fingerprint>\n<millis>".
std::pair<std::string_view, UnixMillis> split_marker(std::string_view marker) {
  const auto nl = marker.rfind('\n');
  if (nl == std::string_view::npos) return {marker, 0};
  UnixMillis at = 0;
  const auto digits = marker.substr(nl + 1);
  std::from_chars(digits.data(), digits.data() + digits.size(), at);
  return {marker.substr(0, nl), at};
}

void clear_ids(ConnectionTxn& txn) {
  // Collect first: deleting under a walking cursor skips keys (LMDB).
  std::vector<std::string> skus;
  auto c = txn.store_id_cursor();
  for (bool ok = c.seek(); ok; ok = c.next()) skus.emplace_back(c.key());
  for (const auto& sku : skus) txn.erase_store_id(sku);
}

}  // namespace

LmdbStoreIdCache::LmdbStoreIdCache(InventoryDb& db, std::string connection, std::string fingerprint)
    : db_(db), connection_(std::move(connection)), fingerprint_(std::move(fingerprint)) {}

bool LmdbStoreIdCache::complete() {
  bool stale = false, done = false;
  db_.read(connection_, [&](ConnectionTxn& txn) {
    const auto marker = txn.store_id_map_marker();
    if (!marker) return;
    const auto [fingerprint, at] = split_marker(*marker);
    if (fingerprint == fingerprint_)
      done = true;
    else
      stale = true;
  });
  if (stale) {
    db_.write(connection_, [&](ConnectionTxn& txn) {
      txn.erase_store_id_map_marker();
      clear_ids(txn);
    });
  }
  return done;
}

UnixMillis LmdbStoreIdCache::completed_at() {
  UnixMillis at = 0;
  db_.read(connection_, [&](ConnectionTxn& txn) {
    if (const auto marker = txn.store_id_map_marker()) {
      const auto [fingerprint, when] = split_marker(*marker);
      if (fingerprint == fingerprint_) at = when;
    }
  });
  return at;
}

std::vector<std::optional<std::string>> LmdbStoreIdCache::find(
    const std::vector<std::string>& skus) {
  std::vector<std::optional<std::string>> ids;
  ids.reserve(skus.size());
  db_.read(connection_, [&](ConnectionTxn& txn) {
    ids.clear();
    for (const auto& sku : skus) ids.push_back(txn.store_id(sku));
  });
  return ids;
}

void LmdbStoreIdCache::replace_all(std::vector<std::pair<std::string, std::string>> entries,
                                   UnixMillis now) {
  // A store may list a SKU longer than any of ours (core/sku.hpp): no feed can name it, and as
  // a state key it would fail the whole map (MDB_BAD_VALSIZE).
  std::erase_if(entries, [](const auto& e) { return e.first.size() > kMaxSkuBytes; });
  // Sorted writes fill LMDB pages in order; stable, so the last duplicate wins below.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  db_.write(connection_, [&](ConnectionTxn& txn) {
    txn.erase_store_id_map_marker();
    clear_ids(txn);
  });
  for (std::size_t from = 0; from < entries.size(); from += kWritesPerTxn) {
    const auto to = std::min(entries.size(), from + kWritesPerTxn);
    db_.write(connection_, [&](ConnectionTxn& txn) {
      for (auto i = from; i < to; ++i) txn.put_store_id(entries[i].first, entries[i].second);
    });
  }
  db_.write(connection_, [&](ConnectionTxn& txn) {
    txn.put_store_id_map_marker(fingerprint_ + "\n" + std::to_string(now));
  });
}

void LmdbStoreIdCache::put(const std::vector<std::pair<std::string, std::string>>& entries) {
  if (entries.empty()) return;
  db_.write(connection_, [&](ConnectionTxn& txn) {
    for (const auto& [sku, id] : entries)
      if (sku.size() <= kMaxSkuBytes) txn.put_store_id(sku, id);  // as in replace_all
  });
}

void LmdbStoreIdCache::erase(const std::vector<std::string>& skus) {
  if (skus.empty()) return;
  db_.write(connection_, [&](ConnectionTxn& txn) {
    for (const auto& sku : skus) txn.erase_store_id(sku);
  });
}

std::size_t LmdbStoreIdCache::size() {
  std::size_t n = 0;
  db_.read(connection_, [&](ConnectionTxn& txn) {
    auto c = txn.store_id_cursor();
    for (bool ok = c.seek(); ok; ok = c.next()) ++n;
  });
  return n;
}

connectors::StoreIdCacheFactory lmdb_store_id_caches(InventoryDb& db, std::string connection) {
  return [&db, connection = std::move(connection)](std::string fingerprint) {
    return std::make_unique<LmdbStoreIdCache>(db, connection, std::move(fingerprint));
  };
}

}  // namespace pb::state
