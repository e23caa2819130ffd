#include "connectors/warehouse/csv/csv_warehouse.hpp"
#include "connectors/factory.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <sys/stat.h>

#include "connectors/store/store.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;
namespace fs = std::filesystem;
using pb::test::ScratchDir;
using pb::test::write_file;

namespace {

void set_age(const fs::path& path, int seconds_ago) {
  static const auto now = fs::file_time_type::clock::now();
  fs::last_write_time(path, now - std::chrono::seconds(seconds_ago));
}

Feed read(Warehouse& warehouse) {
  return pb::test::run_with_pool(
      [&](boost::asio::any_io_executor pool) { return warehouse.read(pool, {}); });
}

}  // namespace

TEST_CASE("a CSV warehouse on a file parses it on the pool and resumes on the caller") {
  ScratchDir dir;
  write_file(dir / "stock.csv", "item;qty\nB;2\nA;1\nA;4\n");
  config::CsvWarehouseConfig config;
  config.path = dir / "stock.csv";
  config.sku_column = "item";
  config.quantity_column = "qty";
  config.delimiter = ';';
  config.duplicates = DuplicatePolicy::sum;
  CsvWarehouse warehouse(config);
  CHECK(warehouse.describe() == "csv " + (dir / "stock.csv").string());

  const auto caller = std::this_thread::get_id();
  boost::asio::io_context io;
  boost::asio::thread_pool pool(2);
  auto future = boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<std::pair<Feed, bool>> {
        const ReadRequest whole;  // named: see the g++ 12 note in sync_run.cpp
        Feed feed = co_await warehouse.read(pool.get_executor(), whole);
        co_return std::pair{std::move(feed), std::this_thread::get_id() == caller};
      },
      boost::asio::use_future);
  io.run();
  pool.join();
  const auto [feed, resumed_on_caller] = future.get();
  CHECK(resumed_on_caller);
  CHECK(feed.origin == (dir / "stock.csv").string());
  REQUIRE(feed.rows.size() == 2);
  CHECK(feed.rows[0].sku == "A");
  CHECK(feed.rows[0].quantity == 5);
  CHECK(feed.rows[0].line == 3);
  CHECK(feed.rows[1].sku == "B");
  CHECK(feed.problems.empty());
}

TEST_CASE("a CSV warehouse on a directory reads the newest file matching the pattern") {
  ScratchDir dir;
  const std::string header = "sku,quantity\n";
  write_file(dir / "inv_1.csv", header + "A,1\n");
  write_file(dir / "inv_2.csv", header + "A,2\n");
  write_file(dir / "inv_0.csv", header + "A,3\n");
  write_file(dir / "other.csv", header + "A,4\n");   // newer, wrong name
  write_file(dir / ".inv_9.csv", header + "A,5\n");  // newer, hidden (an upload in progress)
  fs::create_directory(dir / "inv_dir.csv");         // newer, not a regular file
  set_age(dir / "inv_1.csv", 300);
  set_age(dir / "inv_2.csv", 200);
  set_age(dir / "inv_0.csv", 100);
  set_age(dir / "other.csv", 10);
  set_age(dir / ".inv_9.csv", 10);
  set_age(dir / "inv_dir.csv", 10);

  config::CsvWarehouseConfig config;
  config.path = dir.path();
  config.pattern = "inv_*.csv";
  CsvWarehouse warehouse(config);
  CHECK(warehouse.describe() == "csv " + dir.path().string() + " (inv_*.csv)");
  CHECK(choose_feed_file(dir.path(), "inv_*.csv") == dir / "inv_0.csv");

  Feed feed = read(warehouse);
  CHECK(feed.origin == (dir / "inv_0.csv").string());
  REQUIRE(feed.rows.size() == 1);
  CHECK(feed.rows[0].quantity == 3);

  // Equal times: the greatest name wins.
  write_file(dir / "inv_a.csv", header + "A,6\n");
  write_file(dir / "inv_b.csv", header + "A,7\n");
  set_age(dir / "inv_a.csv", 50);
  set_age(dir / "inv_b.csv", 50);
  feed = read(warehouse);
  CHECK(feed.origin == (dir / "inv_b.csv").string());
  CHECK(feed.rows.at(0).quantity == 7);
}

TEST_CASE("a CSV warehouse that cannot read its source fails with the path") {
  ScratchDir dir;
  write_file(dir / "notes.txt", "x");
  config::CsvWarehouseConfig config;
  config.path = dir.path();
  config.pattern = "inv_*.csv";
  CsvWarehouse empty_dir(config);
  CHECK_THROWS_WITH_AS(read(empty_dir),
                       (dir.path().string() + " (inv_*.csv): no file matches the pattern").c_str(),
                       WarehouseError);

  config.path = dir / "missing.csv";
  CsvWarehouse missing(config);
  CHECK(missing.describe() == "csv " + (dir / "missing.csv").string());
  CHECK_THROWS_WITH_AS(read(missing),
                       ((dir / "missing.csv").string() + ": No such file or directory").c_str(),
                       WarehouseError);

  write_file(dir / "bad.csv", "code,qty\nA,1\n");
  config.path = dir / "bad.csv";
  CsvWarehouse bad_header(config);
  CHECK_THROWS_WITH_AS(
      read(bad_header),
      ((dir / "bad.csv").string() + ": no column 'sku' in the header (columns: 'code', 'qty')")
          .c_str(),
      WarehouseError);
}

TEST_CASE("the factories build connectors from the configuration") {
  config::CsvWarehouseConfig warehouse_config;
  warehouse_config.path = "/srv/feeds/acme.csv";
  auto warehouse = make_warehouse(config::WarehouseConfig{warehouse_config});
  REQUIRE(warehouse != nullptr);
  CHECK(warehouse->describe() == "csv /srv/feeds/acme.csv");

  config::CsvStoreConfig store_config;
  store_config.path = "/srv/shop/stock.csv";
  auto store = make_store(config::StoreConfig{store_config}, StoreDeps{});
  REQUIRE(store != nullptr);
  CHECK(store->describe() == "csv /srv/shop/stock.csv");
  CHECK(store->max_batch() == 200'000);
}

namespace {

// Knows the row A=1, and counts what it was asked.
class KnowsA final : public FeedSieve {
 public:
  bool known(std::string_view sku, Quantity quantity) override {
    ++asked;
    return sku == "A" && quantity == 1;
  }
  void restart() override {}
  int asked = 0;
};

Feed read_sieved(Warehouse& warehouse, const std::shared_ptr<KnowsA>& sieve) {
  return pb::test::run_with_pool([&](boost::asio::any_io_executor pool) {
    ReadRequest request;
    request.sieve = sieve;
    return warehouse.read(pool, request);
  });
}

}  // namespace

TEST_CASE(
    "a CSV warehouse sieves a regular file's rows, never a pipe's (it could not read again)") {
  ScratchDir dir;
  write_file(dir / "stock.csv", "sku,quantity\nA,1\nB,2\n");
  config::CsvWarehouseConfig config;
  config.path = dir / "stock.csv";
  CsvWarehouse file(config);
  auto sieve = std::make_shared<KnowsA>();
  Feed feed = read_sieved(file, sieve);
  CHECK(feed.sieved == 1);
  REQUIRE(feed.rows.size() == 1);
  CHECK(feed.rows[0].sku == "B");
  CHECK(sieve->asked == 2);

  const auto fifo = dir / "stock.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::thread writer([&] { write_file(fifo, "sku,quantity\nA,1\nB,2\n"); });
  config.path = fifo;
  CsvWarehouse pipe(config);
  sieve = std::make_shared<KnowsA>();
  feed = read_sieved(pipe, sieve);
  writer.join();
  CHECK(feed.sieved == 0);
  CHECK(feed.rows.size() == 2);
  CHECK(sieve->asked == 0);
}
