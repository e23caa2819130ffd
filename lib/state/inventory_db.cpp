#include "state/inventory_db.hpp"

#include <array>
#include <stdexcept>

namespace pb::state {
namespace {

std::string run_key_suffix(std::uint64_t id) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i) {
    s[static_cast<std::size_t>(i)] = static_cast<char>(id & 0xffu);
    id >>= 8;
  }
  return s;
}

std::uint64_t run_id_from_suffix(std::string_view s) {
  std::uint64_t id = 0;
  for (char c : s.substr(0, 8)) id = (id << 8) | static_cast<unsigned char>(c);
  return id;
}

constexpr std::string_view kSchemaKey = "schema_version";

struct NamedDb {
  const char* name;
  MDB_dbi Databases::*dbi;
};

// Every named database of the state, in the order InventoryDb opens them.
constexpr std::array<NamedDb, 8> kNamedDbs{{
    {"meta", &Databases::meta},
    {"items", &Databases::items},
    {"pending", &Databases::pending},
    {"runs", &Databases::runs},
    {"connections", &Databases::connections},
    // Added without a schema version change: an older beed never opens them.
    {"store_ids", &Databases::store_ids},
    {"store_id_maps", &Databases::store_id_maps},
    {"source_reads", &Databases::source_reads},
}};
// A member of Databases missing from the list above would stay 0 (LMDB's unnamed database).
static_assert(sizeof(Databases) == kNamedDbs.size() * sizeof(MDB_dbi),
              "every member of Databases needs an entry in kNamedDbs");

// LMDB's max_dbs, from the list so that adding a database cannot exceed it; plus the four
// spare slots the environment has always had (a slot costs little).
constexpr unsigned kSpareDbSlots = 4;
constexpr unsigned kMaxDbs = static_cast<unsigned>(kNamedDbs.size()) + kSpareDbSlots;

}  // namespace

std::vector<std::string_view> database_names() {
  std::vector<std::string_view> names;
  for (const auto& db : kNamedDbs) names.emplace_back(db.name);
  return names;
}

ConnectionTxn::ConnectionTxn(lmdb::Txn& txn, const Databases& dbs, std::string_view connection)
    : txn_(txn), dbs_(dbs), prefix_(connection) {
  prefix_.push_back('\0');
}

std::string ConnectionTxn::key(std::string_view sku) const {
  std::string k;
  k.reserve(prefix_.size() + sku.size());
  k.append(prefix_).append(sku);
  return k;
}

std::optional<ItemRecord> ConnectionTxn::item(std::string_view sku) const {
  const auto v = txn_.get(dbs_.items, key(sku));
  if (!v) return std::nullopt;
  return decode_item(*v);
}

void ConnectionTxn::put_item(std::string_view sku, const ItemRecord& item) {
  const std::string k = key(sku);
  txn_.put(dbs_.items, k, encode(item));
  if (item.needs_push())
    txn_.put(dbs_.pending, k, {});
  else
    txn_.del(dbs_.pending, k);
}

lmdb::Cursor ConnectionTxn::item_cursor() const {
  return lmdb::Cursor(txn_, dbs_.items, prefix_);
}
lmdb::Cursor ConnectionTxn::pending_cursor() const {
  return lmdb::Cursor(txn_, dbs_.pending, prefix_);
}

bool ConnectionTxn::is_pending(std::string_view sku) const {
  return txn_.get(dbs_.pending, key(sku)).has_value();
}

ConnectionRecord ConnectionTxn::connection() const {
  const auto v = txn_.get(dbs_.connections, connection_name());
  return v ? decode_connection(*v) : ConnectionRecord{};
}

void ConnectionTxn::put_connection(const ConnectionRecord& record) {
  txn_.put(dbs_.connections, connection_name(), encode(record));
}

std::optional<RunRecord> ConnectionTxn::run(std::uint64_t id) const {
  const auto v = txn_.get(dbs_.runs, key(run_key_suffix(id)));
  if (!v) return std::nullopt;
  return decode_run(*v);
}

std::optional<RunRecord> ConnectionTxn::last_run() const {
  lmdb::Cursor c(txn_, dbs_.runs, prefix_);
  if (!c.last()) return std::nullopt;
  return decode_run(c.value());
}

std::vector<RunRecord> ConnectionTxn::runs(std::size_t limit) const {
  std::vector<RunRecord> out;
  lmdb::Cursor c(txn_, dbs_.runs, prefix_);
  for (bool ok = c.last(); ok && out.size() < limit; ok = c.prev())
    out.push_back(decode_run(c.value()));
  return out;
}

void ConnectionTxn::put_run(const RunRecord& run) {
  txn_.put(dbs_.runs, key(run_key_suffix(run.id)), encode(run));
  if (run.id <= kRunsKept) return;
  // Run ids only grow, so everything at or below id - kRunsKept is surplus.
  const std::uint64_t oldest_kept = run.id - kRunsKept + 1;
  std::vector<std::string> surplus;
  lmdb::Cursor c(txn_, dbs_.runs, prefix_);
  for (bool ok = c.seek(); ok && run_id_from_suffix(c.key()) < oldest_kept; ok = c.next())
    surplus.emplace_back(c.key());
  for (const auto& suffix : surplus) txn_.del(dbs_.runs, key(suffix));
}

std::optional<std::string> ConnectionTxn::store_id(std::string_view sku) const {
  const auto v = txn_.get(dbs_.store_ids, key(sku));
  if (!v) return std::nullopt;
  return std::string(*v);
}

void ConnectionTxn::put_store_id(std::string_view sku, std::string_view id) {
  txn_.put(dbs_.store_ids, key(sku), id);
}

void ConnectionTxn::erase_store_id(std::string_view sku) {
  txn_.del(dbs_.store_ids, key(sku));
}

lmdb::Cursor ConnectionTxn::store_id_cursor() const {
  return lmdb::Cursor(txn_, dbs_.store_ids, prefix_);
}

std::optional<std::string> ConnectionTxn::store_id_map_marker() const {
  const auto v = txn_.get(dbs_.store_id_maps, connection_name());
  if (!v) return std::nullopt;
  return std::string(*v);
}

void ConnectionTxn::put_store_id_map_marker(std::string_view marker) {
  txn_.put(dbs_.store_id_maps, connection_name(), marker);
}

void ConnectionTxn::erase_store_id_map_marker() {
  txn_.del(dbs_.store_id_maps, connection_name());
}

std::optional<SourceReadRecord> ConnectionTxn::source_read(std::string_view warehouse) const {
  const auto v = txn_.get(dbs_.source_reads, key(warehouse));
  if (!v) return std::nullopt;
  return decode_source_read(*v);
}

void ConnectionTxn::put_source_read(std::string_view warehouse, const SourceReadRecord& record) {
  txn_.put(dbs_.source_reads, key(warehouse), encode(record));
}

void ConnectionTxn::erase_source_read(std::string_view warehouse) {
  txn_.del(dbs_.source_reads, key(warehouse));
}

InventoryDb::InventoryDb(const std::filesystem::path& state_dir, std::size_t initial_map_size)
    : env_(state_dir, kMaxDbs, initial_map_size) {
  env_.write([&](lmdb::Txn& txn) {
    for (const auto& db : kNamedDbs) dbs_.*db.dbi = txn.open_db(db.name);
    const auto version = txn.get(dbs_.meta, kSchemaKey);
    if (!version) {
      txn.put(dbs_.meta, kSchemaKey, std::to_string(kSchemaVersion));
    } else if (*version != std::to_string(kSchemaVersion)) {
      throw std::runtime_error("state in " + state_dir.string() + " has schema version " +
                               std::string(*version) + "; this beed understands version " +
                               std::to_string(kSchemaVersion));
    }
  });
}

void InventoryDb::write(std::string_view connection,
                        const std::function<void(ConnectionTxn&)>& body) {
  env_.write([&](lmdb::Txn& txn) {
    ConnectionTxn ct(txn, dbs_, connection);
    body(ct);
  });
}

void InventoryDb::read(std::string_view connection,
                       const std::function<void(ConnectionTxn&)>& body) {
  env_.read([&](lmdb::Txn& txn) {
    ConnectionTxn ct(txn, dbs_, connection);
    body(ct);
  });
}

std::vector<std::string> InventoryDb::connection_names() {
  std::vector<std::string> names;
  env_.read([&](lmdb::Txn& txn) {
    lmdb::Cursor c(txn, dbs_.connections, "");
    for (bool ok = c.seek(); ok; ok = c.next()) names.emplace_back(c.key());
  });
  return names;
}

std::vector<std::string> InventoryDb::fail_interrupted_runs(UnixMillis now) {
  std::vector<std::string> affected;
  const auto names = connection_names();
  env_.write([&](lmdb::Txn& txn) {
    affected.clear();
    for (const auto& name : names) {
      ConnectionTxn ct(txn, dbs_, name);
      auto last = ct.last_run();
      if (!last || last->result != RunResult::running) continue;
      last->result = RunResult::failed;
      last->finished_at = now;
      last->error = "interrupted: beed stopped during the run";
      ct.put_run(*last);
      affected.push_back(name);
    }
  });
  return affected;
}

}  // namespace pb::state
