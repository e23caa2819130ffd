#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../temp_dir.hpp"
#include "state/lmdb.hpp"

using namespace pb::state;

TEST_CASE("a transaction that is not committed leaves nothing behind") {
  pb::test::TempDir dir;
  lmdb::Env env(dir.path(), 4, 1 << 20);
  MDB_dbi dbi = 0;
  env.write([&](lmdb::Txn& t) { dbi = t.open_db("d"); });
  {
    lmdb::Txn t(env, true);
    t.put(dbi, "k", "v");
  }  // destroyed without commit
  env.read([&](lmdb::Txn& t) { CHECK_FALSE(t.get(dbi, "k").has_value()); });
  CHECK_THROWS_AS(env.write([&](lmdb::Txn& t) {
    t.put(dbi, "k", "v");
    throw std::runtime_error("boom");
  }),
                  std::runtime_error);
  env.read([&](lmdb::Txn& t) { CHECK_FALSE(t.get(dbi, "k").has_value()); });
}

TEST_CASE("a full map grows and the write runs again") {
  pb::test::TempDir dir;
  lmdb::Env env(dir.path(), 4, 64 * 1024);
  const auto before = env.map_size();
  MDB_dbi dbi = 0;
  int attempts = 0;
  env.write([&](lmdb::Txn& t) {
    ++attempts;
    dbi = t.open_db("d");
    for (int i = 0; i < 5000; ++i) t.put(dbi, "key" + std::to_string(i), std::string(100, 'x'));
  });
  CHECK(attempts > 1);
  CHECK(env.map_size() > before);
  env.read([&](lmdb::Txn& t) { CHECK(t.get(dbi, "key4999") == std::string(100, 'x')); });
}

TEST_CASE("cursors stay within their prefix") {
  pb::test::TempDir dir;
  lmdb::Env env(dir.path(), 4, 1 << 20);
  MDB_dbi dbi = 0;
  env.write([&](lmdb::Txn& t) {
    dbi = t.open_db("d");
    for (const char* k : {"a\0x", "b\0a", "b\0b", "b\0c", "c\0a"}) t.put(dbi, std::string(k, 3), k);
  });
  env.read([&](lmdb::Txn& t) {
    lmdb::Cursor c(t, dbi, std::string("b\0", 2));
    std::vector<std::string> forward;
    for (bool ok = c.seek(); ok; ok = c.next()) forward.emplace_back(c.key());
    CHECK(forward == std::vector<std::string>{"a", "b", "c"});
    std::vector<std::string> backward;
    for (bool ok = c.last(); ok; ok = c.prev()) backward.emplace_back(c.key());
    CHECK(backward == std::vector<std::string>{"c", "b", "a"});
    CHECK(c.seek("b"));
    CHECK(c.key() == "b");
    lmdb::Cursor none(t, dbi, std::string("z\0", 2));
    CHECK_FALSE(none.seek());
    CHECK_FALSE(none.last());
    lmdb::Cursor tail(t, dbi, std::string("c\0", 2));
    CHECK(tail.last());
    CHECK(tail.key() == "a");
  });
}
