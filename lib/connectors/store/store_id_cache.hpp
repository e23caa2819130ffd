// A store connector's SKU -> store id mapping, so that a restart does not page
// the whole catalogue again. The ids are opaque strings the connector encodes
// (several ids for a SKU shared by several variants, a parent and a variation
// id, ...). beed hands connectors an LMDB implementation (lib/state); without
// one they keep the map in memory. Calls may block: run them on the pool.
//
// The mapping is "complete" once a walk of the whole catalogue was stored under
// the same fingerprint (store type, shop, location): a SKU absent from a
// complete map is not in the store, at least as of that walk. A different
// fingerprint (the connection now points elsewhere) empties the cache.
//
// Resumable walks. A walk of a large catalogue takes minutes to hours (pages at
// the platform's rate, or a server-side export): a stop or a kill must not send
// the next run back to page one. So a walk is written as it goes: begin_walk()
// records where it starts, each walk_step() commits what was read with where to
// go on from (the checkpoint) in one transaction, finish_walk() marks the map
// complete. After a restart, walk_checkpoint() says where the walk stood. The
// checkpoint is opaque to the cache: the connector encodes what it needs to go
// on (a page cursor, "page 7", a bulk operation's id and a byte offset...), and
// should start it with a word naming the kind of walk, so that a connector whose
// walk changed kind since (an upgrade) can tell, and begin again.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/types.hpp"

namespace pb::connectors {

class StoreIdCache {
 public:
  virtual ~StoreIdCache() = default;

  // True when a complete walk under this fingerprint is stored. With another
  // fingerprint on record, empties the cache first (and returns false).
  virtual bool complete() = 0;
  // When the last complete walk was stored; 0 if none.
  virtual UnixMillis completed_at() = 0;

  // The id for each SKU (same order), nullopt where the cache has none.
  virtual std::vector<std::optional<std::string>> find(const std::vector<std::string>& skus) = 0;

  // Replaces the whole mapping with `entries` (any order; a later duplicate SKU
  // replaces an earlier one) and marks it complete at `now`. The mark comes
  // last, so a kill midway leaves an incomplete map that the next run walks again.
  virtual void replace_all(std::vector<std::pair<std::string, std::string>> entries,
                           UnixMillis now) = 0;

  // Point updates: a SKU the walk missed (found by a targeted lookup), or one
  // whose id the store now calls invalid (erase).
  virtual void put(const std::vector<std::pair<std::string, std::string>>& entries) = 0;
  virtual void erase(const std::vector<std::string>& skus) = 0;

  virtual std::size_t size() = 0;

  // ---- resumable walks (see the top of this file) ----
  // The checkpoint of the walk in progress under this fingerprint; nullopt when
  // none is (never walked, complete, or another fingerprint on record).
  virtual std::optional<std::string> walk_checkpoint() = 0;
  // Starts a walk: drops the complete mark and every entry, and records
  // `checkpoint`. Until finish_walk(), complete() is false.
  virtual void begin_walk(const std::string& checkpoint) = 0;
  // Adds `entries` (as put(): a SKU already stored is replaced, so a connector
  // that merges ids across pages reads them with find() first) and moves the
  // checkpoint to `checkpoint`, in one transaction: a kill leaves both or neither.
  virtual void walk_step(const std::vector<std::pair<std::string, std::string>>& entries,
                         const std::string& checkpoint) = 0;
  // Ends the walk: the map is complete as of `now`, and has no checkpoint.
  virtual void finish_walk(UnixMillis now) = 0;
};

// Opens the connection's cache for the catalogue `fingerprint` names.
using StoreIdCacheFactory = std::function<std::unique_ptr<StoreIdCache>(std::string fingerprint)>;

}  // namespace pb::connectors
