// Whether beed's state file can be used, checked before beed serves anything, and the way
// out when it cannot: damage becomes a refusal to start that names the file, not a crash loop.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace pb::state {

struct StateCheck {
  enum class Verdict {
    ok,          // every record reads (or there is no state yet)
    corrupt,     // the file is damaged: move it aside (move_state_aside)
    unreadable,  // it could not be checked (permissions, memory): not a verdict on the file
  };
  Verdict verdict = Verdict::ok;
  std::string problem;        // what is wrong, naming the file; empty when ok
  std::uint64_t records = 0;  // records read, when ok
};

// In this process: opens the state in `dir` read-only, checks the file's size against its meta
// page, then reads every record of every database and decodes it (keys must have the
// CONNECTION\0 layout, pending SKUs must have an item, counts must match the B-tree's own).
// Returns the records read; a missing state is fine (0). Throws lmdb::Corrupt on damage,
// lmdb::Error when the file cannot be read. A badly damaged B-tree page can still crash LMDB
// itself here: beed calls verify_state_isolated.
std::uint64_t verify_state(const std::filesystem::path& dir);

// verify_state in a forked child, so that a crash there is a verdict (corrupt) rather than
// beed's crash. Forks: call it before any other thread starts.
StateCheck verify_state_isolated(const std::filesystem::path& dir);

// Renames data.mdb in `dir` to data.mdb.corrupt-YYYYMMDDTHHMMSSZ (UTC, now) and removes
// lock.mdb (LMDB's reader table, rebuilt on open), so the next start begins with an empty
// state. Returns the new name; nullopt when there was no data.mdb. The caller holds the
// instance lock: no beed may have the state open.
std::optional<std::filesystem::path> move_state_aside(const std::filesystem::path& dir);

}  // namespace pb::state
