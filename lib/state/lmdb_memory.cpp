// lmdb::Env's memory: the map's pages given back to the page cache (release_pages, and the
// resident budget checked as operations go), and LMDB's own page pool freed by a reopen.
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <string>
#include <system_error>

#include "state/lmdb.hpp"

namespace pb::state::lmdb {
namespace {

// The address ranges where this process maps `dir`/data.mdb. LMDB does not say where it mapped
// the file (mdb_env_info's me_mapaddr is only set for MDB_FIXEDMAP): the process's map list does.
std::vector<std::pair<std::uintptr_t, std::uintptr_t>> find_map(const std::filesystem::path& dir) {
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> ranges;
  std::error_code ec;
  const auto file = std::filesystem::canonical(dir / "data.mdb", ec).string();  // as maps says
  if (ec) return ranges;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() < file.size() ||
        line.compare(line.size() - file.size(), file.size(), file) != 0)
      continue;
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &begin, &end) == 2 && end > begin)
      ranges.emplace_back(begin, end);
  }
  return ranges;
}

}  // namespace

// /proc/self/statm's third field, in pages. Cheap enough to read every few hundred operations
// (one small read of procfs).
std::uint64_t Env::file_resident_bytes() {
  static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  std::FILE* f = std::fopen("/proc/self/statm", "re");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0, shared = 0;
  const int n = std::fscanf(f, "%llu %llu %llu", &size, &resident, &shared);
  std::fclose(f);
  return n == 3 ? shared * page : 0;
}

void Env::release_pages() {
  // Shared: the map is not moved (grow) meanwhile. Open transactions may go on reading: a
  // dropped page of a shared file mapping faults back in from the page cache as it was.
  std::shared_lock lock(resize_lock_);
  if (env_ != nullptr) release_locked();
}

void Env::release_memory() {
  release_pages();
  // Only when no transaction of the process is open (another connection's run may be): else
  // the next call does it.
  std::unique_lock lock(resize_lock_, std::try_to_lock);
  if (!lock.owns_lock() || env_ == nullptr) return;
  reopen();  // throws when it fails (the caller's run fails with the reason)
  ::malloc_trim(0);
}

void Env::reopen() {
  const std::size_t size = map_size();
  mdb_env_close(env_);  // frees LMDB's pool of dirty pages
  env_ = nullptr;
  {
    std::lock_guard guard(release_mutex_);
    map_ranges_.clear();  // the map moves
  }
  open(size);
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
  for (const auto& [name, expected] : dbs_) {
    MDB_dbi dbi = 0;
    const int rc = mdb_dbi_open(txn, name.c_str(), 0, &dbi);
    if (rc != MDB_SUCCESS || dbi != expected) {
      mdb_txn_abort(txn);
      mdb_env_close(env_);
      env_ = nullptr;
      check(rc == MDB_SUCCESS ? MDB_BAD_DBI : rc, ("reopening database " + name).c_str());
    }
  }
  // A read-only transaction's commit keeps the handles it opened (no write, no fsync).
  check(mdb_txn_commit(txn), "mdb_txn_commit");
}

void Env::remember_db(const char* name, MDB_dbi dbi) {
  std::lock_guard guard(release_mutex_);
  for (const auto& db : dbs_)
    if (db.first == name) return;
  dbs_.emplace_back(name, dbi);
}

void Env::release_locked() const {
  std::lock_guard guard(release_mutex_);
  if (map_ranges_.empty()) map_ranges_ = find_map(dir_);  // found once, again after grow()
  for (const auto& [begin, end] : map_ranges_)
    ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  releases_.fetch_add(1, std::memory_order_relaxed);
  resident_after_release_ = file_resident_bytes();
}

void Env::touch() const {
  if (touches_.fetch_add(1, std::memory_order_relaxed) % kTouchesPerCheck != 0) return;
  const std::size_t budget = budget_.load(std::memory_order_relaxed);
  if (budget == 0) return;
  const std::uint64_t now = file_resident_bytes();
  std::uint64_t base = 0;
  {
    std::lock_guard guard(release_mutex_);
    base = resident_after_release_;
  }
  if (now > base + budget) release_locked();
}

}  // namespace pb::state::lmdb
