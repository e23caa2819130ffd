#include "connectors/store/csv/csv_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "connectors/store/csv/csv_store_file.hpp"
#include "connectors/warehouse/csv/csv_feed_parser.hpp"
#include "test_support.hpp"

using namespace pb;
using namespace pb::connectors;
namespace fs = std::filesystem;
using pb::test::read_file;
using pb::test::ScratchDir;
using pb::test::write_file;

namespace {

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " ") + n;
  return out;
}

std::vector<PushResult> push(Store& store, std::vector<PushItem> batch) {
  return pb::test::run_with_pool([&](boost::asio::any_io_executor pool) {
    return store.push(std::move(batch), PushContext{pool, "test/1"});
  });
}

}  // namespace

TEST_CASE("a new store file is created, with its directory, sorted, with no temp file left") {
  ScratchDir dir;
  const fs::path file = dir / "shop/feeds/stock.csv";
  const std::vector<PushItem> batch{{"A", 1}, {"B", -2}, {"C", 0}};
  apply_to_store_file(file, batch);
  CHECK(read_file(file) == "sku,quantity\nA,1\nB,-2\nC,0\n");
  CHECK(joined(names_in(file.parent_path())) == "stock.csv");
}

TEST_CASE("temp files left by a killed writer are removed, a live writer's are not") {
  ScratchDir dir;
  const fs::path file = dir / "stock.csv";
  const auto touch = [](const fs::path& p) { std::ofstream(p) << "sku,quantity\nA,1\n"; };
  // Ours (a previous life of this pid) and pid 1's (alive: init is never gone).
  const fs::path stale = dir / (".stock.csv." + std::to_string(::getpid()) + "-7.tmp");
  const fs::path live = dir / ".stock.csv.1-7.tmp";
  const fs::path other = dir / ".other.csv.999999-1.tmp";
  touch(stale);
  touch(live);
  touch(other);
  apply_to_store_file(file, std::vector<PushItem>{{"A", 2}});
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));
  CHECK(fs::exists(other));  // another target's files are not ours to judge
  CHECK(read_file(file) == "sku,quantity\nA,2\n");
}

TEST_CASE("a batch merges into the existing rows: batch values win, new SKUs are inserted") {
  ScratchDir dir;
  const fs::path file = dir / "stock.csv";
  write_file(file, "sku,quantity\nA,1\nC,3\nE,5\n");
  ::chmod(file.c_str(), 0640);
  const std::vector<PushItem> batch{{"0", 9}, {"B", 20}, {"C", 30}, {"F", 60}};
  apply_to_store_file(file, batch);
  CHECK(read_file(file) == "sku,quantity\n0,9\nA,1\nB,20\nC,30\nE,5\nF,60\n");
  CHECK(joined(names_in(dir.path())) == "stock.csv");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);

  apply_to_store_file(file, std::vector<PushItem>{});
  CHECK(read_file(file) == "sku,quantity\n0,9\nA,1\nB,20\nC,30\nE,5\nF,60\n");
}

TEST_CASE("SKUs with delimiters, quotes, line breaks and edge spaces round-trip") {
  ScratchDir dir;
  const fs::path file = dir / "stock.csv";
  const std::vector<PushItem> batch{{" spaced ", 1},    {"a,b", 2},   {"cr\r\nlf", 3},
                                    {"line\nbreak", 4}, {"plain", 5}, {"q\"uote", 6}};
  apply_to_store_file(file, batch);
  CHECK(read_file(file) ==
        "sku,quantity\n\" spaced \",1\n\"a,b\",2\n\"cr\r\nlf\",3\n\"line\nbreak\",4\nplain,5\n"
        "\"q\"\"uote\",6\n");
  const auto rows = read_store_file(file);
  REQUIRE(rows.size() == batch.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].sku == batch[i].sku);
    CHECK(rows[i].quantity == batch[i].quantity);
  }
  // The streaming merge reads the quoted rows back too.
  apply_to_store_file(file, std::vector<PushItem>{{"a,b", 20}});
  CHECK(read_file(file) ==
        "sku,quantity\n\" spaced \",1\n\"a,b\",20\n\"cr\r\nlf\",3\n\"line\nbreak\",4\nplain,5\n"
        "\"q\"\"uote\",6\n");
  // And the warehouse side reads what the store side writes.
  const Feed feed = parse_csv_feed(read_file(file), {}, "stock.csv");
  CHECK(feed.problems.empty());
  REQUIRE(feed.rows.size() == batch.size());
  CHECK(feed.rows[3].sku == "line\nbreak");
  CHECK(feed.rows[3].line == 6);
}

TEST_CASE("an unsorted existing file or batch is sorted, the last row of a SKU wins") {
  ScratchDir dir;
  const fs::path file = dir / "stock.csv";
  write_file(file, "\xEF\xBB\xBFsku,quantity\r\nC,3\r\nA,1\r\n\r\nB,2\r\nA,9\r\n");
  CHECK(read_store_file(file).size() == 3);
  apply_to_store_file(file, std::vector<PushItem>{{"D", 4}, {"B", 20}, {"D", 40}});
  CHECK(read_file(file) == "sku,quantity\nA,9\nB,20\nC,3\nD,40\n");
  CHECK(joined(names_in(dir.path())) == "stock.csv");
}

TEST_CASE("a malformed existing file is an error naming file and line, and is left alone") {
  ScratchDir dir;
  const fs::path file = dir / "stock.csv";
  const std::vector<PushItem> batch{{"A", 5}};
  const auto check = [&](const std::string& text, const std::string& message) {
    write_file(file, text);
    CHECK_THROWS_WITH_AS(apply_to_store_file(file, batch), (file.string() + message).c_str(),
                         StoreError);
    CHECK(read_file(file) == text);
    CHECK(joined(names_in(dir.path())) == "stock.csv");
  };
  check("sku,quantity\nA,1\nB,x\n", ":3: quantity 'x' is not an integer");
  check("sku,qty\nA,1\n", ":1: the header must be 'sku,quantity'");
  check("sku,quantity\nA,1,2\n", ":2: expected 2 cells, found 3");
  check("sku,quantity\nA,1\n,2\n", ":3: no SKU");
  check("sku,quantity\nA,\n", ":2: quantity '' is not an integer");
  check("sku,quantity\nB,1\nA,1\n\"C,1\n", ":4: not valid CSV (bad quoting)");
}

TEST_CASE("I/O errors are StoreErrors naming the path") {
  ScratchDir dir;
  write_file(dir / "file", "x");
  const fs::path file = dir / "file/stock.csv";
  CHECK_THROWS_AS(apply_to_store_file(file, std::vector<PushItem>{{"A", 1}}), StoreError);
  try {
    apply_to_store_file(file, std::vector<PushItem>{{"A", 1}});
  } catch (const StoreError& e) {
    CHECK(std::string(e.what()) ==
          (dir / "file").string() + ": cannot create directory: Not a directory");
  }
}

TEST_CASE("a CSV store confirms every item of a push made on the pool") {
  ScratchDir dir;
  config::CsvStoreConfig config;
  config.path = dir / "out/stock.csv";
  CsvStore store(config);
  CHECK(store.describe() == "csv " + config.path.string());
  CHECK(store.max_batch() == 200'000);

  const auto results = push(store, {{"A", 1}, {"B", 2}});
  REQUIRE(results.size() == 2);
  for (const auto& r : results) {
    CHECK(r.outcome == PushOutcome::confirmed);
    CHECK(r.message.empty());
  }
  CHECK(read_file(config.path) == "sku,quantity\nA,1\nB,2\n");

  write_file(dir / "blocker", "x");
  CsvStore broken(config::CsvStoreConfig{dir / "blocker/stock.csv"});
  CHECK_THROWS_AS(push(broken, {{"A", 1}}), StoreError);
}

TEST_CASE("concurrent pushes to one file lose nothing") {
  ScratchDir dir;
  const fs::path path = dir / "stock.csv";
  CsvStore first(config::CsvStoreConfig{path});
  CsvStore second(config::CsvStoreConfig{path});  // as after a reload
  std::vector<PushItem> a, b;
  for (int i = 0; i < 2000; ++i) {
    a.push_back({"a" + std::to_string(10000 + i), i});
    b.push_back({"b" + std::to_string(10000 + i), i});
  }
  using namespace boost::asio::experimental::awaitable_operators;
  pb::test::run_with_pool([&](boost::asio::any_io_executor pool) -> boost::asio::awaitable<void> {
    for (int round = 0; round < 5; ++round) {
      // Named awaitables: g++ 12 mishandles temporaries inside a co_await expression.
      auto push_a = first.push(a, PushContext{pool, "t/1"});
      auto push_b = second.push(b, PushContext{pool, "t/2"});
      co_await (std::move(push_a) && std::move(push_b));
    }
  });
  CHECK(read_store_file(path).size() == 4000);
}

namespace {

// The rows a store file must hold after applying `batches` in order, from scratch.
std::map<std::string, Quantity> expected_after(const std::vector<std::vector<PushItem>>& batches) {
  std::map<std::string, Quantity> rows;
  for (const auto& batch : batches)
    for (const auto& item : batch) rows[item.sku] = item.quantity;
  return rows;
}

std::string text_of(const std::map<std::string, Quantity>& rows) {
  std::string out = "sku,quantity\n";
  for (const auto& [sku, qty] : rows) out += sku + "," + std::to_string(qty) + "\n";
  return out;
}

}  // namespace

TEST_CASE("small batches patch a file beed wrote: inserts at the start, middle and end, updates") {
  ScratchDir dir;
  const auto path = dir.path() / "store.csv";
  std::vector<std::vector<PushItem>> batches;
  std::vector<PushItem> first;
  for (int i = 100; i < 1100; ++i) first.push_back({"S" + std::to_string(i), i});
  batches.push_back(first);
  // Before the first row, between rows, replacing rows, after the last row, and the first and
  // last rows themselves.
  batches.push_back({{"A", 1}, {"S100", -5}, {"S1000x", 7}, {"S555", 0}, {"Z", 9}});
  batches.push_back({{"A", 2}, {"S1099", 42}, {"S2", 3}});
  batches.push_back({{"Z", 10}, {"ZZ", 11}});
  batches.push_back({{"0", 12}});
  std::vector<std::vector<PushItem>> applied;
  for (const auto& batch : batches) {
    apply_to_store_file(path, batch);
    applied.push_back(batch);
    REQUIRE(read_file(path) == text_of(expected_after(applied)));
  }
  // Proof that these were patches, not full merges: an edit in place that keeps the size and
  // the modification time is not noticed (a full merge would refuse the bad row).
  struct stat before {};
  REQUIRE(::stat(path.c_str(), &before) == 0);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    const auto text = read_file(path);
    f.seekp(static_cast<std::streamoff>(text.find("S777,777") + 5));
    f.write("x", 1);
  }
  const timespec times[2] = {before.st_atim, before.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  apply_to_store_file(path, std::vector<PushItem>{{"S778", 1}});
  CHECK(read_file(path).find("S777,x77\nS778,1\n") != std::string::npos);
}

TEST_CASE("a store file changed behind beed's back is merged by reading every row again") {
  ScratchDir dir;
  const auto path = dir.path() / "store.csv";
  std::vector<PushItem> first;
  for (int i = 100; i < 1100; ++i) first.push_back({"S" + std::to_string(i), i});
  apply_to_store_file(path, first);
  // A hand edit: a bad row. A patch would copy it on; the full merge finds it.
  auto text = read_file(path);
  text.replace(text.find("S500,500"), 8, "S500,lots");
  write_file(path, text);
  const std::vector<PushItem> update{{"S200", 1}};
  CHECK_THROWS_WITH_AS(apply_to_store_file(path, update), doctest::Contains("is not an integer"),
                       StoreError);
  // A store file holding a quoted SKU is merged, not patched, and stays right.
  write_file(path, "sku,quantity\n\"A,1\",1\nB,2\n");
  apply_to_store_file(path, std::vector<PushItem>{{"C", 3}});
  apply_to_store_file(path, std::vector<PushItem>{{"B", 5}});
  CHECK(read_file(path) == "sku,quantity\n\"A,1\",1\nB,5\nC,3\n");
}

TEST_CASE("patches of a big file: sparse and clustered batches, near and far apart") {
  // 20,000 rows of varied length, so that the patch's search (a gallop from the last change,
  // then a bisection) crosses many line boundaries; each batch mixes updates, inserts before,
  // between and after rows, runs of neighbours and SKUs far apart.
  ScratchDir dir;
  const auto path = dir.path() / "store.csv";
  std::vector<PushItem> first;
  for (int i = 0; i < 20000; ++i)
    first.push_back(
        {"K" + std::to_string(100000 + i * 3) + std::string(static_cast<std::size_t>(i % 7), 'x'),
         i});
  std::sort(first.begin(), first.end(), [](auto& a, auto& b) { return a.sku < b.sku; });
  std::vector<std::vector<PushItem>> applied{first};
  apply_to_store_file(path, first);
  std::mt19937 rng(5);
  for (int round = 0; round < 25; ++round) {
    CAPTURE(round);
    std::map<std::string, Quantity> batch;
    const int spread = round % 3 == 0 ? 20000 : round % 3 == 1 ? 300 : 5;
    const int start = static_cast<int>(rng() % 20000);
    for (int k = 0; k < 60; ++k) {
      const int i = (start + static_cast<int>(rng() % static_cast<unsigned>(spread))) % 20000;
      const auto roll = rng() % 4;
      std::string sku = "K" + std::to_string(100000 + i * 3 + (roll == 0 ? 1 : 0)) +
                        std::string(static_cast<std::size_t>(i % 7), 'x');
      if (roll == 1) sku = first[static_cast<std::size_t>(i)].sku;  // an existing row
      batch[sku] = static_cast<Quantity>(round * 1000 + k);
    }
    if (round == 7) batch["A"] = 1;  // before the first row
    if (round == 8) batch["Z"] = 2;  // after the last
    std::vector<PushItem> items;
    for (const auto& [sku, q] : batch) items.push_back({sku, q});
    apply_to_store_file(path, items);
    applied.push_back(items);
    REQUIRE(read_file(path) == text_of(expected_after(applied)));
  }
}
