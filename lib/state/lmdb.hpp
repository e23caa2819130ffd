// A small RAII layer over LMDB: transactions abort unless committed, every
// error is an exception carrying the LMDB code, and a write that fills the map
// grows it and runs again instead of failing.
#pragma once

#include <lmdb.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pb::state::lmdb {

class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& what);
  int code() const { return code_; }

 private:
  int code_;
};

// The state file is damaged (truncated, or a page or record that does not read). Not worth
// retrying: beed refuses to start on it; see state/state_check.hpp.
class Corrupt : public Error {
 public:
  explicit Corrupt(const std::string& what) : Error(MDB_CORRUPTED, what) {}
};

// Throws Error("<what>: <mdb_strerror>") unless rc is MDB_SUCCESS.
void check(int rc, const char* what);

inline MDB_val to_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};  // LMDB never writes through it
}
inline std::string_view to_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// Throws Corrupt when data.mdb in `dir` is shorter than the pages `env`'s meta page says it
// holds: reading them would raise SIGBUS. Reads only the meta pages, which mdb_env_open has
// already read (with pread) and checked, so it is safe on a truncated file.
void check_file_size(MDB_env* env, const std::filesystem::path& dir);

class Txn;

class Env {
 public:
  // Opens (creating if needed) the environment in directory `dir`.
  Env(const std::filesystem::path& dir, unsigned max_dbs, std::size_t initial_map_size);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  MDB_env* get() const { return env_; }
  std::size_t map_size() const;
  // The id of the last committed write transaction (sync/digest_file.hpp: what a digest kept
  // over a restart is good for).
  std::uint64_t last_txnid();
  const std::filesystem::path& dir() const { return dir_; }

  // Drops this process's mapping of the file's pages (madvise MADV_DONTNEED): they stay in the
  // page cache, but no longer count in beed's RSS. LMDB maps the file read-only, so nothing
  // is lost; a later read faults a page back in. A walk over a million items leaves ~180 MB of
  // the map resident otherwise, until the kernel needs the memory.
  void release_pages();

  // What a run's end calls (issue 14: beed at rest): release_pages, then, when no transaction
  // of the process is open, closes and reopens the environment: LMDB keeps every page it ever
  // malloc'd for a write transaction on a free list that only mdb_env_close frees (the largest
  // transaction's worth: 40 MB after 10,000 scattered changes), and malloc_trim gives the freed
  // heap back. Not after every batch: the next transaction would malloc (and fault in) its
  // pages afresh. Database handles stay valid (reopened in the same order, checked).
  void release_memory();

  // Caps how much of the map a long walk or many scattered lookups leave in beed's RSS: every
  // kTouchesPerCheck operations (get, put, del, a cursor move) the process's file-backed RSS
  // is read, and once it has grown by more than `bytes` since the last release the map's pages
  // are released (as release_pages, from inside the transaction: the map cannot move while one
  // is open). The kernel maps up to 16 neighbouring pages per read fault ("fault-around"), so
  // 10,000 lookups spread over a 120 MB file would otherwise map most of it. 0: never.
  static constexpr std::size_t kDefaultResidentBudget = std::size_t{16} << 20;
  static constexpr std::uint32_t kTouchesPerCheck = 64;
  void set_resident_budget(std::size_t bytes) { budget_.store(bytes); }
  // How many times the map's pages were released, by release_pages() or the budget.
  std::uint64_t releases() const { return releases_.load(); }

  // Runs `body` in a write transaction and commits it. If the map is full the
  // transaction is aborted, the map doubled and `body` run again from the
  // start, so `body` must not keep state across attempts.
  void write(const std::function<void(Txn&)>& body);

  // Runs `body` in a read-only transaction (a consistent snapshot).
  void read(const std::function<void(Txn&)>& body);

 private:
  friend class Txn;
  friend class Cursor;
  void grow();
  // One operation on the map; may release its pages (the caller holds a transaction).
  void touch() const;
  void release_locked() const;  // the caller holds resize_lock_ (shared or exclusive)
  void open(std::size_t initial_map_size);
  void reopen();  // the caller holds resize_lock_ exclusively
  void remember_db(const char* name, MDB_dbi dbi);
  static std::uint64_t file_resident_bytes();  // the process's RssFile + RssShmem

  std::filesystem::path dir_;
  unsigned max_dbs_;
  MDB_env* env_ = nullptr;
  // The named databases in the order they were first opened: a reopened environment opens
  // them again in that order, so they get the same handles.
  std::vector<std::pair<std::string, MDB_dbi>> dbs_;
  // mdb_env_set_mapsize needs every transaction of the process closed:
  // transactions hold this shared; growing holds it exclusively.
  std::shared_mutex resize_lock_;
  // Where the map is (found in /proc/self/maps, again after grow()) and the file-backed RSS
  // after the last release: guarded by release_mutex_.
  mutable std::mutex release_mutex_;
  mutable std::vector<std::pair<std::uintptr_t, std::uintptr_t>> map_ranges_;
  mutable std::uint64_t resident_after_release_ = 0;
  mutable std::atomic<std::uint32_t> touches_{0};
  mutable std::atomic<std::uint64_t> releases_{0};
  std::atomic<std::size_t> budget_{kDefaultResidentBudget};
};

class Txn {
 public:
  Txn(Env& env, bool write);
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  MDB_txn* get() const { return txn_; }
  bool writable() const { return writable_; }
  void commit();
  void abort();

  // Opens (creating in a write transaction) a named database.
  MDB_dbi open_db(const char* name);

  std::optional<std::string_view> get(MDB_dbi dbi, std::string_view key) const;
  void put(MDB_dbi dbi, std::string_view key, std::string_view value);
  // Returns whether the key existed.
  bool del(MDB_dbi dbi, std::string_view key);

 private:
  friend class Cursor;
  std::shared_lock<std::shared_mutex> lock_;
  const Env& env_;
  MDB_txn* txn_ = nullptr;
  bool writable_;
};

// A cursor confined to keys that start with `prefix`.
class Cursor {
 public:
  Cursor(Txn& txn, MDB_dbi dbi, std::string prefix);
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  // Positions at the first key >= prefix + from; false if none with the prefix.
  bool seek(std::string_view from = {});
  // Positions at the last key with the prefix.
  bool last();
  bool next();
  bool prev();
  bool valid() const { return valid_; }
  // The key without the prefix.
  std::string_view key() const;
  std::string_view value() const { return to_view(value_); }
  // Replaces the value at the cursor (write transactions only).
  void replace(std::string_view value);
  // Deletes the entry at the cursor; the cursor then sits on the next entry.
  void erase();

 private:
  bool settle(int rc);

  const Env& env_;
  MDB_cursor* cursor_ = nullptr;
  std::string prefix_;
  MDB_val key_{};
  MDB_val value_{};
  bool valid_ = false;
};

}  // namespace pb::state::lmdb
