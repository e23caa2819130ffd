// lmdb::Env's memory: the resident budget on the map's pages and release_memory's reopen.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "../temp_dir.hpp"
#include "state/lmdb.hpp"

using namespace pb::state;

namespace {

// The process's file-backed resident bytes (/proc/self/statm's third field).
std::uint64_t file_resident() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long long size = 0, resident = 0, shared = 0;
  REQUIRE(f != nullptr);
  REQUIRE(std::fscanf(f, "%llu %llu %llu", &size, &resident, &shared) == 3);
  std::fclose(f);
  return shared * 4096;
}

std::string key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%08d", i);
  return buf;
}

// 60,000 items of 400 bytes (~30 MB of pages), then the map released.
MDB_dbi fill(lmdb::Env& env) {
  MDB_dbi dbi = 0;
  env.write([&](lmdb::Txn& t) {
    dbi = t.open_db("d");
    for (int i = 0; i < 60'000; ++i) t.put(dbi, key(i), std::string(400, static_cast<char>(i)));
  });
  env.release_pages();
  return dbi;
}

// The largest growth of the file-backed RSS over lookups scattered over the whole file.
std::uint64_t scattered_lookups(lmdb::Env& env, MDB_dbi dbi) {
  const auto base = file_resident();
  std::uint64_t peak = 0;
  env.read([&](lmdb::Txn& t) {
    for (int n = 0; n < 20'000; ++n) {
      const int i = static_cast<int>((static_cast<std::uint64_t>(n) * 7919) % 60'000);
      REQUIRE(t.get(dbi, key(i)) == std::string(400, static_cast<char>(i)));
      if (n % 64 == 0) peak = std::max(peak, file_resident() - std::min(base, file_resident()));
    }
  });
  return peak;
}

}  // namespace

TEST_CASE("scattered lookups keep the map's share of RSS within the budget") {
  pb::test::TempDir dir;
  lmdb::Env env(dir.path(), 4, 64 << 20);
  const MDB_dbi dbi = fill(env);
  SUBCASE("with a 4 MB budget") {
    env.set_resident_budget(4 << 20);
    const auto before = env.releases();
    // The check comes every kTouchesPerCheck operations, each of which may map 64 KB (the
    // kernel's fault-around): that much over the budget in between.
    const auto peak = scattered_lookups(env, dbi);
    MESSAGE("peak growth with the budget: " << peak);
    CHECK(peak < (4u << 20) + lmdb::Env::kTouchesPerCheck * (64u << 10) + (1u << 20));
    CHECK(env.releases() > before);
  }
  SUBCASE("without (what the budget prevents)") {
    env.set_resident_budget(0);
    const auto peak = scattered_lookups(env, dbi);
    MESSAGE("peak growth without: " << peak);
    CHECK(peak > (16u << 20));
  }
}

TEST_CASE("release_memory reopens the environment: data and database handles stay valid") {
  pb::test::TempDir dir;
  lmdb::Env env(dir.path(), 4, 64 << 20);
  MDB_dbi other = 0;
  env.write([&](lmdb::Txn& t) { other = t.open_db("other"); });
  const MDB_dbi dbi = fill(env);  // opened second
  env.write([&](lmdb::Txn& t) { t.put(other, "x", "y"); });
  env.release_memory();
  env.read([&](lmdb::Txn& t) {
    CHECK(t.get(other, "x") == std::string("y"));
    CHECK(t.get(dbi, key(59'999)) == std::string(400, static_cast<char>(59'999)));
  });
  env.write([&](lmdb::Txn& t) { t.put(dbi, "new", "z"); });
  env.release_memory();
  env.read([&](lmdb::Txn& t) { CHECK(t.get(dbi, "new") == std::string("z")); });
}

TEST_CASE("release_memory with a transaction open leaves the environment as it is") {
  pb::test::TempDir dir;
  lmdb::Env env(dir.path(), 4, 64 << 20);
  const MDB_dbi dbi = fill(env);
  lmdb::Txn reader(env, false);
  const auto value = reader.get(dbi, key(7));
  env.release_memory();  // cannot reopen now: the map stays where `value` points
  CHECK(value == std::string(400, static_cast<char>(7)));
}
