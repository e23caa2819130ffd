// Feeds that are hostile by accident or on purpose: SKUs that are not UTF-8 or too long for a
// state key (bad rows, whatever the warehouse type), binary bytes quoted in messages, feed paths
// that are not files (/dev/zero), oversized files, and reads that must stop when told to.
#include <sys/stat.h>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connectors/warehouse/csv/csv_feed_parser.hpp"
#include "connectors/warehouse/csv/csv_warehouse.hpp"
#include "connectors/warehouse/csv/feed_file.hpp"
#include "connectors/warehouse/feed_assembly.hpp"
#include "connectors/warehouse/http/json_feed_builder.hpp"
#include "connectors/warehouse/postgres/postgres_rows.hpp"
#include "core/sku.hpp"
#include "core/utf8.hpp"
#include "state/inventory_db.hpp"
#include "state/lmdb_store_id_cache.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;
namespace fs = std::filesystem;
using pb::test::ScratchDir;
using pb::test::write_file;

using pb::test::dump;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const WarehouseError& e) {
    return e.what();
  }
  return "(no error)";
}

const std::string kLong(kMaxSkuBytes + 1, 'L');
const std::string kLongest(kMaxSkuBytes, 'M');

}  // namespace

TEST_CASE("CSV: a SKU that is not UTF-8 or longer than 255 bytes is a bad row, the rest applies") {
  const std::string text =
      "sku,quantity\nA,1\nCAF\xC9-1,5\n" + kLong + ",3\n" + kLongest + ",4\nCAF\xC3\x89-2,6\n";
  const Feed feed = parse_csv_feed(text, {}, "feed.csv");
  CHECK(dump(feed) ==
        "A=1@2;CAF\xC3\x89-2=6@6;" + kLongest +
            "=4@5;\n"
            "3|CAF\xC9-1|SKU 'CAF\\xC9-1' is not valid UTF-8\n"
            "4|" +
            kLong + "|SKU '" + std::string(64, 'L') +
            "...' is longer than 255 bytes (256)\n"
            // Held: it may have been stored by an older version. The long one cannot have been.
            "CAF\xC9-1,");
  for (const auto& p : feed.problems) CHECK(utf8::is_valid(p.message));
}

TEST_CASE("PostgreSQL: the same SKU rules, after trimming") {
  PostgresFeedBuilder builder("postgres dbname=wms", DuplicatePolicy::error, QuantityText::integer);
  builder.add(1, "A", "1");
  builder.add(2, "CAF\xC9-1 ", "5");
  builder.add(3, kLong, "3");
  builder.add(4, kLongest, "4");
  CHECK(dump(builder.finish()) == "A=1@1;" + kLongest +
                                      "=4@4;\n"
                                      "2|CAF\xC9-1|SKU 'CAF\\xC9-1' is not valid UTF-8\n"
                                      "3|" +
                                      kLong + "|SKU '" + std::string(64, 'L') +
                                      "...' is longer than 255 bytes (256)\nCAF\xC9-1,");
}

TEST_CASE("http-json: a SKU longer than 255 bytes is a bad item named by page and index") {
  config::HttpJsonWarehouseConfig config;
  JsonFeedBuilder builder(config, "https://api.example.com/inv");
  builder.add_page("{\"items\":[{\"sku\":\"A\",\"quantity\":1},{\"sku\":\"" + kLong +
                       "\",\"quantity\":2},{\"sku\":\"CAF\\u00c9-1\",\"quantity\":3}]}",
                   1);
  CHECK(dump(builder.finish()) ==
        "A=1@1;CAF\xC3\x89-1=3@3;\n"
        "2|" +
            kLong + "|page 1, items[1]: SKU '" + std::string(64, 'L') +
            "...' is longer than 255 bytes (256)\n");
}

TEST_CASE("messages quoting foreign bytes are valid UTF-8") {
  // Cut at 64 bytes without splitting a character, stray bytes escaped.
  const std::string euros = std::string(63, 'x') + "\xE2\x82\xAC";
  CHECK(quote_for_message(euros) == "'" + std::string(63, 'x') + "...'");
  CHECK(quote_for_message("\x89PNG\xFF") == "'\\x89PNG\\xFF'");
  // A binary header: the error quotes its cells, escaped.
  const std::string header = "\x89PNG\r\n\x1A\n\xFF\xD8,qty\n";
  const std::string what = error_of([&] { parse_csv_feed(header, {}, "feed.csv"); });
  CHECK(what.starts_with("feed.csv: no column 'sku' in the header (columns: '\\x89PNG'"));
  CHECK(utf8::is_valid(what));
  // Any WarehouseError, wherever it is built (an HTTP body excerpt, a libpq message).
  CHECK(std::string(WarehouseError("body: caf\xE9").what()) == "body: caf\\xE9");
}

TEST_CASE("a feed path that is not a regular file or a FIFO is refused at once") {
  config::CsvWarehouseConfig config;
  config.path = "/dev/zero";
  CHECK(error_of([&] { read_csv_warehouse(config); }) ==
        "/dev/zero: is a character device; a feed must be a regular file (or a named pipe)");
}

TEST_CASE("a feed file larger than the cap is refused before it is read") {
  ScratchDir dir;
  const fs::path big = dir / "big.csv";
  write_file(big, "sku,quantity\nA,1\n");
  fs::resize_file(big, kMaxFeedFileBytes + 1);  // sparse: costs no disk
  config::CsvWarehouseConfig config;
  config.path = big;
  CHECK(error_of([&] { read_csv_warehouse(config); }) ==
        big.string() + ": is larger than the 1073741824 bytes a feed may hold (1073741825 bytes)");
  // The cap holds for a file that grows while it is read too.
  const fs::path growing = dir / "growing.csv";
  write_file(growing, "sku,quantity\nA,1\n");
  FeedFileBuf buffer(growing, 20, nullptr);
  std::ofstream(growing, std::ios::app) << std::string(100, '\n');
  std::istream in(&buffer);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(buffer.too_large());
  CHECK(all.empty());  // the chunk that went past the cap is not handed out
}

TEST_CASE("a feed file whose name is not UTF-8 is named escaped") {
  ScratchDir dir;
  write_file(dir / "inv_caf\xE9.csv", "sku,quantity\nA,1\n");
  config::CsvWarehouseConfig config;
  config.path = dir.path();
  config.pattern = "inv_*.csv";
  CHECK(read_csv_warehouse(config).origin == (dir / "inv_caf\\xE9.csv").string());
}

TEST_CASE("the stop flag ends a read waiting on an idle FIFO within a second") {
  ScratchDir dir;
  const fs::path fifo = dir / "feed.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // A writer that opens the pipe and never writes: a reader without a stop would wait forever.
  std::thread writer([&] {
    std::ofstream out(fifo);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  });
  std::atomic<bool> stop{false};
  config::CsvWarehouseConfig config;
  config.path = fifo;
  const auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  CHECK(error_of([&] { read_csv_warehouse(config, &stop); }) ==
        fifo.string() + ": the read was stopped (beed is stopping)");
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < std::chrono::milliseconds(1000));
  stopper.join();
  writer.join();
}

TEST_CASE("a FIFO feed is still read to its end") {
  ScratchDir dir;
  const fs::path fifo = dir / "feed.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the reader waits for it
    std::ofstream out(fifo);
    out << "sku,quantity\nB,2\nA,1\n";
  });
  config::CsvWarehouseConfig config;
  config.path = fifo;
  const Feed feed = read_csv_warehouse(config);
  writer.join();
  CHECK(dump(feed) == "A=1@3;B=2@2;\n");
}

TEST_CASE("the stop flag ends a parse between chunks, and no partial feed comes out") {
  std::string text = "sku,quantity\n";
  for (int i = 0; i < 10000; ++i) text += "SKU-" + std::to_string(i) + ",1\n";
  std::atomic<bool> stop{true};
  CsvFeedOptions options;
  options.stop = &stop;
  options.chunk_bytes = 4096;
  CHECK(error_of([&] { parse_csv_feed(text, options, "feed.csv"); }) ==
        "feed.csv: the read was stopped (beed is stopping)");
  stop = false;
  CHECK(parse_csv_feed(text, options, "feed.csv").rows.size() == 10000);
}

TEST_CASE("a warehouse read passes the request's stop flag to the reader") {
  ScratchDir dir;
  write_file(dir / "stock.csv", "sku,quantity\nA,1\n");
  config::CsvWarehouseConfig config;
  config.path = dir / "stock.csv";
  CsvWarehouse warehouse(config);
  auto stop = std::make_shared<std::atomic<bool>>(true);
  const ReadRequest request(SyncKind::full, {}, {}, stop);
  const std::string what = error_of([&] {
    pb::test::run_with_pool(
        [&](boost::asio::any_io_executor pool) { return warehouse.read(pool, request); });
  });
  CHECK(what == (dir / "stock.csv").string() + ": the read was stopped (beed is stopping)");
}

TEST_CASE("the longest state key fits, and a store's longer SKUs never reach the state") {
  ScratchDir dir;
  state::InventoryDb db(dir.path());
  const std::string connection(kMaxConnectionNameBytes, 'c');
  REQUIRE(is_valid_connection_name(connection));
  // The longest connection name and SKU: CONNECTION\0SKU is 320 bytes, under LMDB's 511.
  state::LmdbStoreIdCache cache(db, connection, "shopify https://a location 1");
  cache.replace_all({{kLongest, "1"}, {kLong + kLong, "2"}, {"A", "3"}}, 1234);
  cache.put({{std::string(600, 'P'), "4"}});
  CHECK(cache.find({kLongest, "A"}) == std::vector<std::optional<std::string>>{"1", "3"});
  CHECK(cache.size() == 2);
}
