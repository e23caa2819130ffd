// A small RAII layer over LMDB: transactions abort unless committed, every
// error is an exception carrying the LMDB code, and a write that fills the map
// grows it and runs again instead of failing.
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>

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
  const std::filesystem::path& dir() const { return dir_; }

  // Drops this process's mapping of the file's pages (madvise MADV_DONTNEED): they stay in the
  // page cache, but no longer count in beed's RSS. LMDB maps the file read-only, so nothing
  // is lost; a later read faults a page back in. A walk over a million items leaves ~180 MB of
  // the map resident otherwise, until the kernel needs the memory.
  void release_pages();

  // Runs `body` in a write transaction and commits it. If the map is full the
  // transaction is aborted, the map doubled and `body` run again from the
  // start, so `body` must not keep state across attempts.
  void write(const std::function<void(Txn&)>& body);

  // Runs `body` in a read-only transaction (a consistent snapshot).
  void read(const std::function<void(Txn&)>& body);

 private:
  friend class Txn;
  void grow();

  std::filesystem::path dir_;
  MDB_env* env_ = nullptr;
  // mdb_env_set_mapsize needs every transaction of the process closed:
  // transactions hold this shared; growing holds it exclusively.
  std::shared_mutex resize_lock_;
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

  MDB_cursor* cursor_ = nullptr;
  std::string prefix_;
  MDB_val key_{};
  MDB_val value_{};
  bool valid_ = false;
};

}  // namespace pb::state::lmdb
