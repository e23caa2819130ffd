#include "state/lmdb_store_id_cache.hpp"

#include "core/sku.hpp"

#include <algorithm>
#include <charconv>
#include <memory>
#include <optional>
#include <string_view>

namespace pb::state {
namespace {

constexpr std::size_t kWritesPerTxn = 50'000;
constexpr std::string_view kWalkWord = "walk\n";

// The store_id_maps value of a connection, one of:
//   "<fingerprint>\n<millis>"             a complete map, walked at <millis>
//   "<fingerprint>\nwalk\n<checkpoint>"   a walk in progress (the checkpoint may hold anything)
// A fingerprint never holds a newline (a store type, a URL, an id).
struct Marker {
  std::string_view fingerprint;
  UnixMillis completed_at = 0;                 // 0 for a walk in progress
  std::optional<std::string_view> checkpoint;  // set for a walk in progress
};

Marker parse_marker(std::string_view marker) {
  const auto nl = marker.find('\n');
  if (nl == std::string_view::npos) return {marker, 0, std::nullopt};
  Marker m{marker.substr(0, nl), 0, std::nullopt};
  const auto rest = marker.substr(nl + 1);
  if (rest.substr(0, kWalkWord.size()) == kWalkWord) {
    m.checkpoint = rest.substr(kWalkWord.size());
  } else {
    std::from_chars(rest.data(), rest.data() + rest.size(), m.completed_at);
  }
  return m;
}

void clear_ids(ConnectionTxn& txn) {
  // Collect first: deleting under a walking cursor skips keys (LMDB).
  std::vector<std::string> skus;
  auto c = txn.store_id_cursor();
  for (bool ok = c.seek(); ok; ok = c.next()) skus.emplace_back(c.key());
  for (const auto& sku : skus) txn.erase_store_id(sku);
}

void put_ids(ConnectionTxn& txn, const std::vector<std::pair<std::string, std::string>>& entries) {
  // A store may list a SKU longer than any of ours (core/sku.hpp): no feed can name it, and as
  // a state key it would fail the whole write (MDB_BAD_VALSIZE).
  for (const auto& [sku, id] : entries)
    if (sku.size() <= kMaxSkuBytes) txn.put_store_id(sku, id);
}

}  // namespace

LmdbStoreIdCache::LmdbStoreIdCache(InventoryDb& db, std::string connection, std::string fingerprint)
    : db_(db), connection_(std::move(connection)), fingerprint_(std::move(fingerprint)) {}

bool LmdbStoreIdCache::complete() {
  bool stale = false, done = false;
  db_.read(connection_, [&](ConnectionTxn& txn) {
    const auto marker = txn.store_id_map_marker();
    if (!marker) return;
    const auto m = parse_marker(*marker);
    if (m.fingerprint != fingerprint_)
      stale = true;
    else
      done = !m.checkpoint && m.completed_at != 0;
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
      const auto m = parse_marker(*marker);
      if (m.fingerprint == fingerprint_ && !m.checkpoint) at = m.completed_at;
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
  finish_walk(now);
}

void LmdbStoreIdCache::put(const std::vector<std::pair<std::string, std::string>>& entries) {
  if (entries.empty()) return;
  db_.write(connection_, [&](ConnectionTxn& txn) { put_ids(txn, entries); });
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

std::optional<std::string> LmdbStoreIdCache::walk_checkpoint() {
  std::optional<std::string> checkpoint;
  db_.read(connection_, [&](ConnectionTxn& txn) {
    checkpoint.reset();
    if (const auto marker = txn.store_id_map_marker()) {
      const auto m = parse_marker(*marker);
      if (m.fingerprint == fingerprint_ && m.checkpoint) checkpoint = std::string(*m.checkpoint);
    }
  });
  return checkpoint;
}

void LmdbStoreIdCache::begin_walk(const std::string& checkpoint) {
  // The mark first, in the same transaction as the clearing: a kill leaves an
  // incomplete map either way.
  db_.write(connection_, [&](ConnectionTxn& txn) {
    txn.put_store_id_map_marker(fingerprint_ + "\n" + std::string(kWalkWord) + checkpoint);
    clear_ids(txn);
  });
}

void LmdbStoreIdCache::walk_step(const std::vector<std::pair<std::string, std::string>>& entries,
                                 const std::string& checkpoint) {
  db_.write(connection_, [&](ConnectionTxn& txn) {
    put_ids(txn, entries);
    txn.put_store_id_map_marker(fingerprint_ + "\n" + std::string(kWalkWord) + checkpoint);
  });
}

void LmdbStoreIdCache::finish_walk(UnixMillis now) {
  db_.write(connection_, [&](ConnectionTxn& txn) {
    txn.put_store_id_map_marker(fingerprint_ + "\n" + std::to_string(now));
  });
}

connectors::StoreIdCacheFactory lmdb_store_id_caches(InventoryDb& db, std::string connection) {
  return [&db, connection = std::move(connection)](std::string fingerprint) {
    return std::make_unique<LmdbStoreIdCache>(db, connection, std::move(fingerprint));
  };
}

}  // namespace pb::state
