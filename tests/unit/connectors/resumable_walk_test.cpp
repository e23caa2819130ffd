// The resumable catalogue walk every paged store walk runs on: steps committed with their
// checkpoint, a failed or stopped walk going on from there, another kind's checkpoint ignored.
#include "connectors/store/resumable_walk.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "connectors/store/memory_store_id_cache.hpp"
#include "test_support.hpp"

using namespace pb;
using connectors::MemoryStoreIdCache;
using connectors::ResumableWalk;
using connectors::WalkPage;

namespace {

// A catalogue of `pages` pages of two SKUs each ("S<page>a", "S<page>b"); positions are page
// numbers. Records the pages read; fails once when asked for page `fail_at`.
struct Catalogue {
  int pages = 5;
  int fail_at = 0;
  std::vector<int> read;

  boost::asio::awaitable<WalkPage> page(const std::string& position) {
    const int n = std::stoi(position);
    read.push_back(n);
    if (n == fail_at) {
      fail_at = 0;
      throw connectors::StoreError("page " + position + " timed out",
                                   connectors::StoreError::Retry::no);
    }
    WalkPage out;
    const auto p = std::to_string(n);
    out.entries = {{"S" + p + "a", "id" + p + "a"}, {"S" + p + "b", "id" + p + "b"}};
    out.listed = 2;
    out.total = static_cast<std::uint64_t>(pages) * 2;
    if (n < pages) out.next = std::to_string(n + 1);
    co_return out;
  }

  ResumableWalk walk() {
    return {"test-pages", "1", "Test",
            [this](const std::string& position) { return page(position); }, nullptr};
  }
};

struct Progress final : connectors::MappingProgress {
  std::vector<std::uint64_t> mapped;
  int done = 0;
  void mapping(std::uint64_t m, std::uint64_t) override { mapped.push_back(m); }
  void mapping_done() override { ++done; }
};

connectors::ResumableWalkResult run(MemoryStoreIdCache& cache, const ResumableWalk& walk,
                                    connectors::MappingProgress* progress = nullptr,
                                    std::shared_ptr<std::atomic<bool>> stop = nullptr) {
  return test::run_with_pool([&](boost::asio::any_io_executor pool) {
    connectors::PushContext context{pool, "c/1", progress, stop};
    return [](MemoryStoreIdCache& c, connectors::PushContext ctx,
              const ResumableWalk& w) -> boost::asio::awaitable<connectors::ResumableWalkResult> {
      co_return co_await connectors::run_resumable_walk(c, ctx, w);
    }(cache, context, walk);
  });
}

}  // namespace

TEST_CASE("resumable walk: every step committed, the map complete at the end") {
  MemoryStoreIdCache cache;
  Catalogue catalogue;
  Progress progress;
  const auto result = run(cache, catalogue.walk(), &progress);
  CHECK_FALSE(result.resumed);
  CHECK(result.listed == 10);
  CHECK(result.steps == 5);
  CHECK(catalogue.read == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(cache.complete());
  CHECK(cache.size() == 10);
  CHECK_FALSE(cache.walk_checkpoint().has_value());
  CHECK(cache.find({"S3b"})[0] == "id3b");
  CHECK(progress.mapped == std::vector<std::uint64_t>{0, 2, 4, 6, 8, 10});
  CHECK(progress.done == 1);
}

TEST_CASE("resumable walk: a failed walk goes on from its checkpoint, pages read once") {
  MemoryStoreIdCache cache;
  Catalogue catalogue;
  catalogue.fail_at = 4;
  Progress progress;
  CHECK_THROWS_WITH_AS(run(cache, catalogue.walk(), &progress), "page 4 timed out",
                       connectors::StoreError);
  CHECK(progress.done == 1);  // the phase ends with the failed walk
  CHECK_FALSE(cache.complete());
  CHECK(cache.size() == 6);  // pages 1-3, committed
  REQUIRE(cache.walk_checkpoint().has_value());

  catalogue.read.clear();
  const auto result = run(cache, catalogue.walk());
  CHECK(result.resumed);
  CHECK(catalogue.read == std::vector<int>{4, 5});  // nothing read twice
  CHECK(result.listed == 10);                       // the counter goes on too
  CHECK(cache.complete());
  CHECK(cache.size() == 10);
}

TEST_CASE("resumable walk: a stop ends it between steps, the next run goes on") {
  MemoryStoreIdCache cache;
  Catalogue catalogue;
  auto stop = std::make_shared<std::atomic<bool>>(false);
  catalogue.pages = 3;
  // Page 2 asks for the stop, as `beectl pause` would during the walk.
  auto walk = catalogue.walk();
  walk.read_page = [&](const std::string& position) {
    if (position == "2") stop->store(true);
    return catalogue.page(position);
  };
  CHECK_THROWS_WITH_AS(run(cache, walk, nullptr, stop),
                       "stopped during the Test catalogue walk (it resumes on the next run)",
                       connectors::StoreError);
  CHECK(catalogue.read == std::vector<int>{1, 2});  // page 2 was committed before the stop
  CHECK(cache.size() == 4);
  stop->store(false);
  catalogue.read.clear();
  run(cache, catalogue.walk(), nullptr, stop);
  CHECK(catalogue.read == std::vector<int>{3});
  CHECK(cache.complete());
}

TEST_CASE("resumable walk: another kind's checkpoint is not resumed, the walk begins again") {
  MemoryStoreIdCache cache;
  cache.begin_walk("old-kind 6\n4");
  cache.walk_step({{"STALE", "x"}}, "old-kind 8\n5");
  Catalogue catalogue;
  catalogue.pages = 2;
  const auto result = run(cache, catalogue.walk());
  CHECK_FALSE(result.resumed);
  CHECK(catalogue.read == std::vector<int>{1, 2});
  CHECK(cache.size() == 4);
  CHECK_FALSE(cache.find({"STALE"})[0].has_value());
}

TEST_CASE("resumable walk: the merge hook sees each step before it is committed") {
  MemoryStoreIdCache cache;
  Catalogue catalogue;
  catalogue.pages = 2;
  auto walk = catalogue.walk();
  walk.merge = [](connectors::StoreIdCache& c, auto& entries) {
    for (auto& [sku, ids] : entries)
      if (auto had = c.find({sku})[0]) ids = *had + "," + ids;
  };
  cache.begin_walk(connectors::encode_walk_checkpoint("test-pages", 0, "1"));
  cache.walk_step({{"S2a", "earlier"}}, connectors::encode_walk_checkpoint("test-pages", 1, "1"));
  run(cache, walk);
  CHECK(cache.find({"S2a"})[0] == "earlier,id2a");
}

TEST_CASE("resumable walk: checkpoint text") {
  using connectors::decode_walk_checkpoint;
  const auto text = connectors::encode_walk_checkpoint("k", 42, "cursor with spaces\nand a line");
  const auto back = decode_walk_checkpoint("k", text);
  REQUIRE(back.has_value());
  CHECK(back->listed == 42);
  CHECK(back->position == "cursor with spaces\nand a line");
  CHECK_FALSE(decode_walk_checkpoint("kk", text).has_value());
  CHECK_FALSE(decode_walk_checkpoint("k", "k 4x\n1").has_value());
  CHECK_FALSE(decode_walk_checkpoint("k", "k 4").has_value());
  CHECK_FALSE(decode_walk_checkpoint("k", "k").has_value());
  CHECK_FALSE(decode_walk_checkpoint("k", "").has_value());
}

TEST_CASE("resumable walk: killed after the last step's commit, the next run only finishes it") {
  MemoryStoreIdCache cache;
  cache.begin_walk(connectors::encode_walk_checkpoint("test-pages", 0, "1"));
  cache.walk_step({{"S1a", "id1a"}}, connectors::encode_walk_checkpoint("test-pages", 2, ""));
  Catalogue catalogue;
  const auto result = run(cache, catalogue.walk());
  CHECK(result.resumed);
  CHECK(result.steps == 0);
  CHECK(catalogue.read.empty());
  CHECK(cache.complete());
  CHECK(cache.size() == 1);
}
