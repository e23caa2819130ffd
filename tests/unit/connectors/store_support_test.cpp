// What every network store connector builds on: the SKU -> id cache (LMDB and memory) and
// reading credentials from files.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "connectors/secret_file.hpp"
#include "connectors/store/memory_store_id_cache.hpp"
#include "state/inventory_db.hpp"
#include "state/lmdb_store_id_cache.hpp"
#include "test_support.hpp"

using namespace pb;
using state::LmdbStoreIdCache;

namespace {

std::string error_of(const std::filesystem::path& path) {
  try {
    connectors::read_secret_file(path, "access_token_file");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("expected an error for " << path);
  return {};
}

}  // namespace

TEST_CASE("store id cache: incomplete until a walk is stored, then answers lookups") {
  test::ScratchDir dir;
  state::InventoryDb db(dir.path());
  LmdbStoreIdCache cache(db, "shop", "shopify https://a location 1");
  CHECK_FALSE(cache.complete());
  CHECK(cache.completed_at() == 0);

  cache.replace_all({{"B", "2"}, {"A", "1"}, {"C", "3"}, {"A", "1b"}}, 1234);
  CHECK(cache.complete());
  CHECK(cache.completed_at() == 1234);
  CHECK(cache.size() == 3);
  const auto ids = cache.find({"A", "B", "Z"});
  REQUIRE(ids.size() == 3);
  CHECK(ids[0] == "1b");  // the later duplicate wins
  CHECK(ids[1] == "2");
  CHECK_FALSE(ids[2].has_value());

  cache.put({{"Z", "26"}});
  cache.erase({"B"});
  const auto again = cache.find({"B", "Z"});
  CHECK_FALSE(again[0].has_value());
  CHECK(again[1] == "26");

  // Another connection's cache is separate.
  LmdbStoreIdCache other(db, "other", "shopify https://a location 1");
  CHECK_FALSE(other.complete());
  CHECK(other.size() == 0);
}

TEST_CASE("memory id cache: what a connector without LMDB keeps for its own life") {
  connectors::MemoryStoreIdCache cache;
  CHECK_FALSE(cache.complete());
  cache.put({{"Q", "17"}});
  CHECK_FALSE(cache.complete());  // a point update is not a walk
  cache.replace_all({{"B", "2"}, {"A", "1"}, {"A", "1b"}}, 99);
  CHECK(cache.complete());
  CHECK(cache.completed_at() == 99);
  CHECK(cache.size() == 2);  // the walk replaced Q
  const auto ids = cache.find({"A", "B", "Q"});
  CHECK(ids[0] == "1b");
  CHECK(ids[1] == "2");
  CHECK_FALSE(ids[2].has_value());
  cache.erase({"A"});
  CHECK_FALSE(cache.find({"A"}).front().has_value());
}

TEST_CASE("open_id_cache: the factory's cache when there is one, else one in memory") {
  test::ScratchDir dir;
  state::InventoryDb db(dir.path());
  auto persistent = connectors::open_id_cache(state::lmdb_store_id_caches(db, "shop"), "f");
  persistent->replace_all({{"A", "1"}}, 5);
  CHECK(LmdbStoreIdCache(db, "shop", "f").find({"A"}).front() == "1");
  auto memory = connectors::open_id_cache({}, "f");
  CHECK_FALSE(memory->complete());
  CHECK(LmdbStoreIdCache(db, "shop", "f").size() == 1);
}

TEST_CASE("store id cache: a new fingerprint (the store changed) empties it") {
  test::ScratchDir dir;
  state::InventoryDb db(dir.path());
  LmdbStoreIdCache({db, "shop", "woocommerce https://old"}).replace_all({{"A", "1"}}, 5);
  LmdbStoreIdCache moved(db, "shop", "woocommerce https://new");
  CHECK_FALSE(moved.complete());
  CHECK(moved.size() == 0);
  // The old map is gone for good, not hidden.
  CHECK_FALSE(LmdbStoreIdCache(db, "shop", "woocommerce https://old").complete());
}

TEST_CASE("store id cache: survives reopening the database") {
  test::ScratchDir dir;
  {
    state::InventoryDb db(dir.path());
    LmdbStoreIdCache(db, "shop", "f").replace_all({{"A", "1"}}, 7);
  }
  state::InventoryDb db(dir.path());
  LmdbStoreIdCache cache(db, "shop", "f");
  CHECK(cache.complete());
  CHECK(cache.find({"A"})[0] == "1");
}

TEST_CASE("store id cache: a large walk is stored in several transactions") {
  test::ScratchDir dir;
  state::InventoryDb db(dir.path());
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < 120'000; ++i)
    entries.emplace_back("SKU" + std::to_string(i), std::to_string(i));
  LmdbStoreIdCache cache(db, "shop", "f");
  cache.replace_all(entries, 9);
  CHECK(cache.size() == 120'000);
  CHECK(cache.find({"SKU119999"})[0] == "119999");
  // A second, smaller walk replaces rather than adds to the first.
  cache.replace_all({{"X", "1"}}, 10);
  CHECK(cache.size() == 1);
}

TEST_CASE("secret files: trimmed value, errors name the file, never the content") {
  test::ScratchDir dir;
  test::write_file(dir / "token", "shpat_abc123\n");
  CHECK(connectors::read_secret_file(dir / "token", "access_token_file") == "shpat_abc123");

  test::write_file(dir / "empty", "\n  \n");
  CHECK(error_of(dir / "empty") == "access_token_file " + (dir / "empty").string() + " is empty");

  test::write_file(dir / "two", "shpat_secret_one\nshpat_secret_two\n");
  const auto two = error_of(dir / "two");
  CHECK(two.find("holds more than one line") != std::string::npos);
  CHECK(two.find("shpat_secret") == std::string::npos);

  const auto missing = error_of(dir / "missing");
  CHECK(missing == "cannot read access_token_file " + (dir / "missing").string() +
                       ": No such file or directory");
}

TEST_CASE("secret files: $CREDENTIALS_DIRECTORY/NAME is read from systemd's directory") {
  test::ScratchDir dir;
  test::write_file(dir / "shop-token", "shpat_from_credentials");
  const char* before = std::getenv("CREDENTIALS_DIRECTORY");
  const std::string saved = before ? before : "";
  ::unsetenv("CREDENTIALS_DIRECTORY");
  CHECK(error_of("$CREDENTIALS_DIRECTORY/shop-token").find("$CREDENTIALS_DIRECTORY is not set") !=
        std::string::npos);
  ::setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1);
  CHECK(connectors::read_secret_file("$CREDENTIALS_DIRECTORY/shop-token", "access_token_file") ==
        "shpat_from_credentials");
  if (before)
    ::setenv("CREDENTIALS_DIRECTORY", saved.c_str(), 1);
  else
    ::unsetenv("CREDENTIALS_DIRECTORY");
}
