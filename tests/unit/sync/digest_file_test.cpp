// A digest kept over a restart: it comes back as it was for the state it was written with, and
// for no other; a damaged file is passed over; the files go either way.
#include "sync/digest_file.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <string>

#include "../temp_dir.hpp"
#include "fakes.hpp"
#include "sync/change_detector_digest.hpp"

using namespace pb;
using namespace pb::sync;

namespace {

std::shared_ptr<FeedDigest> sample(bool with_lines) {
  Rules rules;
  rules.buffer = 2;
  rules.buffer_percent = 5;
  rules.minimum_distributable = 1;
  rules.missing_skus = MissingSkus::zero;
  rules.repush_after = 86'400'000;
  auto d = make_digest(pb::test::make_feed({{"A", 1}, {"B", -2}, {"CC", 30}}), rules);
  d->listed = 3;
  d->in_stock = 2;
  d->sieve = false;
  if (with_lines) {
    auto memo = std::make_shared<LineMemo>();
    memo->layout = 99;
    memo->hashes = {11, 22, 33};
    memo->entries = {2, 0, 1};
    memo->lines = {1, 2, 0};
    d->lines = memo;
  }
  return d;
}

std::string show(const FeedDigest& d) {
  std::string out = std::to_string(d.rules.buffer) + "/" + std::to_string(d.rules.buffer_percent) +
                    "/" + std::to_string(d.rules.minimum_distributable) + "/" +
                    (d.rules.missing_skus == MissingSkus::zero ? "zero" : "keep") + "/" +
                    std::to_string(d.rules.repush_after) + " listed " + std::to_string(d.listed) +
                    " in stock " + std::to_string(d.in_stock) + (d.sieve ? " sieve" : "") + ":";
  for (std::size_t i = 0; i < d.size(); ++i)
    out += " " + std::string(d.sku(i)) + "=" + std::to_string(d.quantities[i]);
  if (d.lines) {
    out += " lines " + std::to_string(d.lines->layout) + ":";
    for (std::size_t i = 0; i < d.lines->size(); ++i)
      out += " " + std::to_string(d.lines->hashes[i]) + "@" + std::to_string(d.lines->entry(i));
  }
  return out;
}

const StateStamp kStamp{41, 7, 1234, 4096, 1'700'000'000'000'000'000};

}  // namespace

TEST_CASE("a kept digest comes back as it was, for the state it was written with") {
  pb::test::TempDir dir;
  const auto digests = dir.path() / "digests";
  const auto one = sample(true), two = sample(false);
  save_digest(digests, "shop", kStamp, {one, 1'700'000'000'123});
  save_digest(digests, "b2b.eu-1", kStamp, {two, 0});
  const auto taken = take_digests(digests, kStamp);
  REQUIRE(taken.size() == 2);
  CHECK(show(*taken.at("shop").digest) == show(*one));
  CHECK(show(*taken.at("b2b.eu-1").digest) == show(*two));
  CHECK(taken.at("shop").digest->lines->lines == one->lines->lines);
  CHECK(taken.at("shop").last_stale_check == 1'700'000'000'123);
  CHECK(taken.at("b2b.eu-1").last_stale_check == 0);
  CHECK_FALSE(std::filesystem::exists(digests));  // taken: gone
  CHECK(take_digests(digests, kStamp).empty());
}

TEST_CASE("a kept digest is passed over for another state, a damaged file or another name") {
  pb::test::TempDir dir;
  const auto digests = dir.path() / "digests";
  const auto d = sample(true);
  for (auto other : {StateStamp{42, 7, 1234, 4096, kStamp.mtime_ns},
                     StateStamp{41, 8, 1234, 4096, kStamp.mtime_ns},
                     StateStamp{41, 7, 1235, 4096, kStamp.mtime_ns},
                     StateStamp{41, 7, 1234, 8192, kStamp.mtime_ns},
                     StateStamp{41, 7, 1234, 4096, kStamp.mtime_ns + 1}}) {
    save_digest(digests, "shop", kStamp, {d, 5});
    CHECK(take_digests(digests, other).empty());
    CHECK_FALSE(std::filesystem::exists(digests));
  }
  // Every byte flipped in turn, and the file cut short at every length: never taken.
  save_digest(digests, "shop", kStamp, {d, 5});
  const auto file = digests / "shop.digest";
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE(bytes.size() > 100);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    CAPTURE(i);
    auto damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    std::filesystem::create_directories(digests);
    std::ofstream(file, std::ios::binary) << damaged;
    CHECK(take_digests(digests, kStamp).empty());
    std::filesystem::create_directories(digests);
    std::ofstream(file, std::ios::binary) << bytes.substr(0, i);
    CHECK(take_digests(digests, kStamp).empty());
  }
  // Renamed to another connection's name: that connection does not take it.
  save_digest(digests, "shop", kStamp, {d, 5});
  std::filesystem::rename(file, digests / "other.digest");
  CHECK(take_digests(digests, kStamp).empty());
  // Whole, but not a digest: SKUs out of order (as a file written by a bug would be).
  auto unsorted = sample(false);
  std::swap(unsorted->skus[0], unsorted->skus[1]);  // "BA..." for "AB...": B before A
  save_digest(digests, "shop", kStamp, {unsorted, 5});
  CHECK(take_digests(digests, kStamp).empty());
  auto bad_lines = sample(true);
  std::const_pointer_cast<LineMemo>(bad_lines->lines)->lines = {0, 2, 1};
  save_digest(digests, "shop", kStamp, {bad_lines, 5});
  CHECK(take_digests(digests, kStamp).empty());
  // Not a digest file at all, and other files: removed with the folder.
  std::filesystem::create_directories(digests);
  std::ofstream(digests / "shop.digest") << "hello";
  std::ofstream(digests / "notes.txt") << "x";
  CHECK(take_digests(digests, kStamp).empty());
  CHECK_FALSE(std::filesystem::exists(digests));
}

TEST_CASE("the state's stamp: its last transaction, and data.mdb as the file system sees it") {
  pb::test::TempDir dir;
  CHECK_THROWS_AS(state_stamp(dir.path(), 1), std::system_error);
  std::ofstream(dir.path() / "data.mdb") << "x";
  const auto a = state_stamp(dir.path(), 5);
  CHECK(a.txnid == 5);
  CHECK(a.size == 1);
  CHECK(a == state_stamp(dir.path(), 5));
  CHECK_FALSE(a == state_stamp(dir.path(), 6));
  std::ofstream(dir.path() / "data.mdb", std::ios::app) << "y";
  CHECK_FALSE(a == state_stamp(dir.path(), 5));
}
