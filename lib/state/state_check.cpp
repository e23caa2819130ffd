#include "state/state_check.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <string_view>
#include <system_error>

#include "state/inventory_db.hpp"
#include "state/lmdb.hpp"
#include "state/records.hpp"

namespace pb::state {
namespace {

constexpr int kExitCorrupt = 3;
constexpr int kExitUnreadable = 4;

// A key as a message can show it: "CONNECTION/SKU", other bytes escaped, cut short.
std::string printable(std::string_view key) {
  constexpr std::size_t kMax = 80;
  std::string out;
  for (char c : key.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    if (u == 0) {
      out += '/';
    } else if (u < 0x20 || u >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  if (key.size() > kMax) out += "...";
  return out;
}

// "CONNECTION\0REST" with a non-empty CONNECTION; returns REST.
std::string_view connection_key(std::string_view key) {
  const auto sep = key.find('\0');
  if (sep == std::string_view::npos || sep == 0) throw RecordError("key is not CONNECTION\\0...");
  return key.substr(sep + 1);
}

void check_name_key(std::string_view key) {
  if (key.empty() || key.find('\0') != std::string_view::npos)
    throw RecordError("key is not a connection name");
}

// Throws RecordError when one record of database `db` does not have its layout.
void check_record(MDB_txn* txn, MDB_dbi items, std::string_view db, std::string_view key,
                  std::string_view value) {
  if (db == "items") {
    if (connection_key(key).empty()) throw RecordError("empty SKU");
    decode_item(value);
  } else if (db == "pending") {
    connection_key(key);
    MDB_val k = lmdb::to_val(key);
    MDB_val v{};
    if (mdb_get(txn, items, &k, &v) != MDB_SUCCESS)
      throw RecordError("a pending SKU without its item");
  } else if (db == "runs") {
    if (connection_key(key).size() != 8) throw RecordError("run key is not 8 bytes of run id");
    decode_run(value);
  } else if (db == "connections") {
    check_name_key(key);
    decode_connection(value);
  } else if (db == "store_ids") {
    connection_key(key);
  } else if (db == "store_id_maps") {
    check_name_key(key);
  } else if (db == "source_reads") {
    connection_key(key);
    decode_source_read(value);
  }
}

// Reads every entry of `db` in key order; returns how many there were.
std::uint64_t walk(MDB_txn* txn, MDB_dbi dbi, MDB_dbi items, std::string_view db,
                   const std::filesystem::path& file) {
  MDB_cursor* cursor = nullptr;
  lmdb::check(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open");
  std::uint64_t count = 0;
  MDB_val key{}, value{};
  int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
  try {
    for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
      try {
        check_record(txn, items, db, lmdb::to_view(key), lmdb::to_view(value));
      } catch (const RecordError& e) {
        throw lmdb::Corrupt("state file " + file.string() + ": " + std::string(db) + " record '" +
                            printable(lmdb::to_view(key)) + "': " + e.what());
      }
      ++count;
    }
  } catch (...) {
    mdb_cursor_close(cursor);
    throw;
  }
  mdb_cursor_close(cursor);
  if (rc != MDB_NOTFOUND)
    throw lmdb::Corrupt("state file " + file.string() + ": database " + std::string(db) +
                        " does not read: " + mdb_strerror(rc));
  MDB_stat stat{};
  lmdb::check(mdb_stat(txn, dbi, &stat), "mdb_stat");
  if (stat.ms_entries != count)
    throw lmdb::Corrupt("state file " + file.string() + ": database " + std::string(db) +
                        " says it holds " + std::to_string(stat.ms_entries) + " records, " +
                        std::to_string(count) + " were read");
  return count;
}

// The errors that mean the file itself is bad, as opposed to unreachable.
bool is_damage(int rc) {
  return rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND ||
         rc == MDB_VERSION_MISMATCH || rc == MDB_BAD_TXN;
}

struct EnvHandle {
  MDB_env* env = nullptr;
  MDB_txn* txn = nullptr;
  ~EnvHandle() {
    if (txn) mdb_txn_abort(txn);
    if (env) mdb_env_close(env);
  }
};

std::uint64_t walk_all(MDB_txn* txn, const std::filesystem::path& file) {
  std::uint64_t records = 0;
  MDB_dbi items = 0;
  for (const auto name : database_names()) {
    MDB_dbi dbi = 0;
    const std::string db(name);
    const int rc = mdb_dbi_open(txn, db.c_str(), 0, &dbi);
    if (rc == MDB_NOTFOUND) continue;  // a state older than the database
    if (rc != MDB_SUCCESS) {
      if (is_damage(rc) || rc == MDB_INCOMPATIBLE)
        throw lmdb::Corrupt("state file " + file.string() + ": database " + db +
                            " does not open: " + mdb_strerror(rc));
      lmdb::check(rc, "mdb_dbi_open");
    }
    if (db == "items") items = dbi;
    records += walk(txn, dbi, items, db, file);
  }
  return records;
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const auto n = ::write(fd, text.data(), text.size());
    if (n <= 0 && errno != EINTR) return;
    if (n > 0) text.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      return out;
    }
  }
}

// The child's side: the verdict as its exit status, the message (or the record count) on `fd`.
[[noreturn]] void check_in_child(const std::filesystem::path& dir, int fd) {
  // A crash here is expected on a damaged file: no core dump for it.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  int status = 0;
  try {
    write_all(fd, std::to_string(verify_state(dir)));
  } catch (const lmdb::Corrupt& e) {
    write_all(fd, e.what());
    status = kExitCorrupt;
  } catch (const std::exception& e) {
    write_all(fd, e.what());
    status = kExitUnreadable;
  }
  ::_exit(status);
}

}  // namespace

std::uint64_t verify_state(const std::filesystem::path& dir) {
  const auto file = dir / "data.mdb";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return 0;  // a first start
  EnvHandle h;
  lmdb::check(mdb_env_create(&h.env), "mdb_env_create");
  lmdb::check(mdb_env_set_maxdbs(h.env, 64), "mdb_env_set_maxdbs");
  // Read-only, and registered as a reader when there is a lock file, so a running beed's
  // writes cannot recycle the pages being read.
  unsigned flags = MDB_RDONLY | MDB_NOTLS;
  if (!std::filesystem::exists(dir / "lock.mdb", ec)) flags |= MDB_NOLOCK;
  int rc = mdb_env_open(h.env, dir.c_str(), flags, 0640);
  if (rc != MDB_SUCCESS) {
    if (is_damage(rc))
      throw lmdb::Corrupt("state file " + file.string() +
                          " is not a readable LMDB file: " + mdb_strerror(rc));
    throw lmdb::Error(rc, "cannot open the state in " + dir.string() + ": " + mdb_strerror(rc));
  }
  lmdb::check_file_size(h.env, dir);
  rc = mdb_txn_begin(h.env, nullptr, MDB_RDONLY, &h.txn);
  if (is_damage(rc))
    throw lmdb::Corrupt("state file " + file.string() + " does not read: " + mdb_strerror(rc));
  lmdb::check(rc, "mdb_txn_begin");
  return walk_all(h.txn, file);
}

StateCheck verify_state_isolated(const std::filesystem::path& dir) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return {StateCheck::Verdict::unreadable, std::string("pipe: ") + std::strerror(errno), 0};
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return {StateCheck::Verdict::unreadable, std::string("fork: ") + std::strerror(errno), 0};
  }
  if (pid == 0) {
    ::close(fds[0]);
    check_in_child(dir, fds[1]);
  }
  ::close(fds[1]);
  const std::string said = read_all(fds[0]);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const auto file = (dir / "data.mdb").string();
  if (WIFSIGNALED(status))
    return {StateCheck::Verdict::corrupt,
            "state file " + file + " is corrupt: reading it crashed the check (" +
                strsignal(WTERMSIG(status)) + ")",
            0};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return {StateCheck::Verdict::ok, {}, std::stoull(said.empty() ? "0" : said)};
  if (WIFEXITED(status) && WEXITSTATUS(status) == kExitCorrupt)
    return {StateCheck::Verdict::corrupt, said, 0};
  return {StateCheck::Verdict::unreadable,
          said.empty() ? "the state check of " + file + " failed" : said, 0};
}

std::optional<std::filesystem::path> move_state_aside(const std::filesystem::path& dir) {
  const auto file = dir / "data.mdb";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  auto aside = dir / ("data.mdb.corrupt-" + std::string(stamp));
  std::filesystem::rename(file, aside);  // throws filesystem_error, naming both paths
  std::filesystem::remove(dir / "lock.mdb", ec);
  return aside;
}

}  // namespace pb::state
