// A connection's FeedDigest kept over a clean restart: without it, the first Smart Sync after a
// restart takes the full merge (1.2 s for 1M SKUs instead of ~0.25 s) and reads every item.
//
// beed writes the digests when it stops, once no run is left in flight, each stamped with the
// state's last LMDB transaction and data.mdb's identity (device, inode, size, mtime). The next
// beed reads them right after opening the state, before anything writes, and takes one only if
// the state is still exactly that (nothing has changed the items since: no run, no other
// program) and the file is whole (its checksum); it removes them either way. A digest stands
// only for the state it was written with (change_detector_digest.hpp): a kill, a crash or a
// restored backup leaves a stamp that no longer matches, and the first run merges in full.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/types.hpp"
#include "sync/change_detector_digest.hpp"

namespace pb::sync {

// What a digest file is good for: the state it was written with.
struct StateStamp {
  std::uint64_t txnid = 0;  // LMDB's last committed transaction
  std::uint64_t device = 0, inode = 0, size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const StateStamp&) const = default;
};

// What a connection keeps over a restart: the digest, and when its catalogue was last checked
// for SKUs to push again (RunControl::last_stale_check: without it the first run after a
// restart walks every item for `repush_after`, 250 ms for 1M).
struct KeptDigest {
  std::shared_ptr<FeedDigest> digest;
  UnixMillis last_stale_check = 0;
};

// The stamp of the state in `state_dir` as it is now (its environment open, no write since
// `txnid`). Throws std::system_error when data.mdb cannot be stat'ed.
StateStamp state_stamp(const std::filesystem::path& state_dir, std::uint64_t txnid);

// Where beed keeps the digests over a restart: <state_dir>/digests/.
std::filesystem::path digest_dir(const std::filesystem::path& state_dir);

// Writes `kept` (its digest set) for `connection` into `dir` (created if needed), replacing any
// file it had: written aside, then renamed. Throws std::runtime_error (naming the file) on an I/O
// error.
void save_digest(const std::filesystem::path& dir, std::string_view connection,
                 const StateStamp& stamp, const KeptDigest& kept);

// The digests in `dir` whose stamp is `stamp`, by connection; every file in it is removed
// (taken or not), and `dir` too. A file that is not whole or not this state's is passed over,
// logged at info level with why.
std::map<std::string, KeptDigest> take_digests(const std::filesystem::path& dir,
                                               const StateStamp& stamp);

}  // namespace pb::sync
