#include "state/lmdb.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <system_error>

namespace pb::state::lmdb {

Error::Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}

void check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) throw Error(rc, std::string(what) + ": " + mdb_strerror(rc));
}

namespace {

// Below this much free space after a failed write, the file system is taken to be full.
constexpr std::uint64_t kNearlyFull = std::uint64_t{1} << 20;

// LMDB 0.9 reports a short write, which is what a full file system gives a large write, as
// EIO ("Input/output error"): the free space tells the two apart.
Error write_error(int rc, const char* what, const std::filesystem::path& dir) {
  struct statvfs fs {};
  const bool stat_ok = statvfs(dir.c_str(), &fs) == 0;
  const std::uint64_t free_bytes = stat_ok ? std::uint64_t{fs.f_bavail} * fs.f_frsize : 0;
  const bool full =
      rc == ENOSPC || rc == EDQUOT || (rc == EIO && stat_ok && free_bytes < kNearlyFull);
  if (full)
    return Error(ENOSPC, std::string(what) + ": no space left on device: the state in " +
                             dir.string() + " cannot be written (" + std::to_string(free_bytes) +
                             " bytes free)");
  if (rc == EFBIG)
    return Error(rc, std::string(what) + ": file too large: the state in " + dir.string() +
                         " hit the file size limit (RLIMIT_FSIZE)");
  return Error(rc,
               std::string(what) + ": " + mdb_strerror(rc) + " (state in " + dir.string() + ")");
}

}  // namespace
namespace {}  // namespace

void check_file_size(MDB_env* env, const std::filesystem::path& dir) {
  MDB_envinfo info{};
  MDB_stat stat{};
  check(mdb_env_info(env, &info), "mdb_env_info");
  check(mdb_env_stat(env, &stat), "mdb_env_stat");
  const auto file = dir / "data.mdb";
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return;  // mdb_env_open has just opened it
  const auto needed = (std::uint64_t{info.me_last_pgno} + 1) * stat.ms_psize;
  if (static_cast<std::uint64_t>(st.st_size) < needed)
    throw Corrupt("state file " + file.string() + " is truncated: it holds " +
                  std::to_string(st.st_size) + " bytes, its pages need " + std::to_string(needed));
}

Env::Env(const std::filesystem::path& dir, unsigned max_dbs, std::size_t initial_map_size)
    : dir_(dir), max_dbs_(max_dbs) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw Error(ec.value(), "cannot create state directory " + dir.string() + ": " + ec.message());
  open(initial_map_size);
}

void Env::open(std::size_t initial_map_size) {
  check(mdb_env_create(&env_), "mdb_env_create");
  try {
    check(mdb_env_set_maxdbs(env_, max_dbs_), "mdb_env_set_maxdbs");
    check(mdb_env_set_maxreaders(env_, 256), "mdb_env_set_maxreaders");
    // Open first, then compare: an existing environment may already be larger.
    // MDB_NOTLS: read transactions are tied to the transaction, not the thread,
    // so worker-pool threads and the event loop can each hold their own.
    const int rc = mdb_env_open(env_, dir_.c_str(), MDB_NOTLS, 0640);
    if (rc != MDB_SUCCESS)
      throw Error(rc, "cannot open LMDB environment in " + dir_.string() + ": " + mdb_strerror(rc));
    // Before the first transaction: that is what would touch a page past the end (SIGBUS).
    check_file_size(env_, dir_);
    if (map_size() < initial_map_size)
      check(mdb_env_set_mapsize(env_, initial_map_size), "mdb_env_set_mapsize");
    // Readers left behind by a process that was killed would pin old pages.
    int dead = 0;
    mdb_reader_check(env_, &dead);
    resident_after_release_ = file_resident_bytes();
  } catch (...) {
    mdb_env_close(env_);
    env_ = nullptr;
    throw;
  }
}

Env::~Env() {
  if (env_) mdb_env_close(env_);
}

std::size_t Env::map_size() const {
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

std::uint64_t Env::last_txnid() {
  std::shared_lock lock(resize_lock_);  // not while release_memory reopens the environment
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  return info.me_last_txnid;
}

void Env::grow() {
  std::unique_lock lock(resize_lock_);
  check(mdb_env_set_mapsize(env_, map_size() * 2), "mdb_env_set_mapsize");
  std::lock_guard guard(release_mutex_);
  map_ranges_.clear();  // the map moved
}

void Env::write(const std::function<void(Txn&)>& body) {
  for (;;) {
    try {
      Txn txn(*this, true);
      body(txn);
      txn.commit();
      return;
    } catch (const Error& e) {
      if (e.code() != MDB_MAP_FULL) throw;
    }
    grow();  // the transaction above is gone: no transaction of ours holds the lock
  }
}

void Env::read(const std::function<void(Txn&)>& body) {
  Txn txn(*this, false);
  body(txn);
}

Txn::Txn(Env& env, bool write) : lock_(env.resize_lock_), env_(env), writable_(write) {
  if (env.get() == nullptr)  // a reopen (Env::release_memory) failed, and said why then
    throw Error(EIO, "the state in " + env.dir().string() +
                         " could not be reopened after giving its memory back: restart beed");
  int rc = mdb_txn_begin(env.get(), nullptr, write ? 0 : MDB_RDONLY, &txn_);
  if (rc == MDB_READERS_FULL) {
    int dead = 0;
    mdb_reader_check(env.get(), &dead);
    rc = mdb_txn_begin(env.get(), nullptr, write ? 0 : MDB_RDONLY, &txn_);
  }
  check(rc, "mdb_txn_begin");
}

Txn::~Txn() {
  abort();
}

void Txn::commit() {
  MDB_txn* t = txn_;
  txn_ = nullptr;
  const int rc = mdb_txn_commit(t);  // commit frees the handle even on failure
  if (rc != MDB_SUCCESS) throw write_error(rc, "mdb_txn_commit", env_.dir());
}

void Txn::abort() {
  if (txn_) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

MDB_dbi Txn::open_db(const char* name) {
  MDB_dbi dbi = 0;
  check(mdb_dbi_open(txn_, name, writable_ ? MDB_CREATE : 0, &dbi), name);
  const_cast<Env&>(env_).remember_db(name, dbi);
  return dbi;
}

std::optional<std::string_view> Txn::get(MDB_dbi dbi, std::string_view key) const {
  MDB_val k = to_val(key);
  MDB_val v{};
  env_.touch();
  const int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  check(rc, "mdb_get");
  return to_view(v);
}

void Txn::put(MDB_dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  env_.touch();
  check(mdb_put(txn_, dbi, &k, &v, 0), "mdb_put");
}

bool Txn::del(MDB_dbi dbi, std::string_view key) {
  MDB_val k = to_val(key);
  env_.touch();
  const int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  check(rc, "mdb_del");
  return true;
}

Cursor::Cursor(Txn& txn, MDB_dbi dbi, std::string prefix)
    : env_(txn.env_), prefix_(std::move(prefix)) {
  check(mdb_cursor_open(txn.get(), dbi, &cursor_), "mdb_cursor_open");
}

Cursor::~Cursor() {
  mdb_cursor_close(cursor_);
}

bool Cursor::settle(int rc) {
  env_.touch();  // safe at any point: a released page faults back in as it was
  if (rc == MDB_NOTFOUND) return valid_ = false;
  check(rc, "mdb_cursor_get");
  valid_ = to_view(key_).substr(0, prefix_.size()) == prefix_;
  return valid_;
}

bool Cursor::seek(std::string_view from) {
  std::string target = prefix_;
  target.append(from);
  if (target.empty())  // LMDB rejects zero-length keys, even as a search bound
    return settle(mdb_cursor_get(cursor_, &key_, &value_, MDB_FIRST));
  key_ = to_val(target);
  return settle(mdb_cursor_get(cursor_, &key_, &value_, MDB_SET_RANGE));
}

bool Cursor::last() {
  if (prefix_.empty()) return settle(mdb_cursor_get(cursor_, &key_, &value_, MDB_LAST));
  // The first key past every key with the prefix is prefix with its last byte
  // incremented (prefixes here end in a 0x00 separator, never 0xff).
  std::string past = prefix_;
  past.back() = static_cast<char>(static_cast<unsigned char>(past.back()) + 1);
  key_ = to_val(past);
  int rc = mdb_cursor_get(cursor_, &key_, &value_, MDB_SET_RANGE);
  if (rc == MDB_NOTFOUND) {
    rc = mdb_cursor_get(cursor_, &key_, &value_, MDB_LAST);
  } else if (rc == MDB_SUCCESS) {
    rc = mdb_cursor_get(cursor_, &key_, &value_, MDB_PREV);
  }
  return settle(rc);
}

bool Cursor::next() {
  return settle(mdb_cursor_get(cursor_, &key_, &value_, MDB_NEXT));
}
bool Cursor::prev() {
  return settle(mdb_cursor_get(cursor_, &key_, &value_, MDB_PREV));
}

std::string_view Cursor::key() const {
  return to_view(key_).substr(prefix_.size());
}

void Cursor::replace(std::string_view value) {
  MDB_val v = to_val(value);
  check(mdb_cursor_put(cursor_, &key_, &v, MDB_CURRENT), "mdb_cursor_put");
  check(mdb_cursor_get(cursor_, &key_, &value_, MDB_GET_CURRENT), "mdb_cursor_get");
}

void Cursor::erase() {
  check(mdb_cursor_del(cursor_, 0), "mdb_cursor_del");
  // After a delete LMDB leaves the cursor on the following entry; GET_CURRENT
  // reads it (or reports that the end was reached).
  settle(mdb_cursor_get(cursor_, &key_, &value_, MDB_GET_CURRENT));
}

}  // namespace pb::state::lmdb
