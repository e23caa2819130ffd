#include <doctest/doctest.h>

#include "state/records.hpp"

using namespace pb;
using namespace pb::state;

TEST_CASE("records round-trip through their encodings") {
  ItemRecord item{-3, 1583157600000, 0, true, 7, 1583157700000, "unknown SKU"};
  const auto back = decode_item(encode(item));
  CHECK(back.quantity == -3);
  CHECK(back.updated_at == 1583157600000);
  CHECK(back.wanted == 0);
  CHECK(back.listed);
  CHECK(back.store_quantity == 7);
  CHECK(back.confirmed_at == 1583157700000);
  CHECK(back.error == "unknown SKU");

  ItemRecord never;
  never.listed = false;
  CHECK_FALSE(decode_item(encode(never)).store_quantity.has_value());
  CHECK_FALSE(decode_item(encode(never)).listed);

  RunRecord run{42, SyncKind::full, Trigger::schedule, 1, 2, RunResult::partial, 10, 9, 8, 1, 3,
                "x"};
  const auto r = decode_run(encode(run));
  CHECK(r.id == 42);
  CHECK(r.kind == SyncKind::full);
  CHECK(r.trigger == Trigger::schedule);
  CHECK(r.result == RunResult::partial);
  CHECK(r.read == 10);
  CHECK(r.changed == 9);
  CHECK(r.pushed == 8);
  CHECK(r.rejected == 1);
  CHECK(r.bad_rows == 3);
  CHECK(r.error == "x");

  ConnectionRecord c{17, 99, 98, true, "", "", {}, {}};
  const auto cb = decode_connection(encode(c));
  CHECK(cb.next_run_id == 17);
  CHECK(cb.next_due_at == 99);
  CHECK(cb.last_full_ok_at == 98);
  CHECK(cb.paused);
}

TEST_CASE("truncated or unknown records are refused, not misread") {
  auto bytes = encode(ItemRecord{});
  CHECK_THROWS(decode_item(bytes.substr(0, bytes.size() - 1)));
  bytes[0] = 9;
  CHECK_THROWS(decode_item(bytes));
  auto run = encode(RunRecord{});
  run[10] = 7;  // result byte out of range
  CHECK_THROWS(decode_run(run));
}

TEST_CASE("an item needs a push until the store confirms what is wanted") {
  ItemRecord r;
  r.wanted = 5;
  CHECK(r.needs_push());
  r.store_quantity = 4;
  CHECK(r.needs_push());
  r.store_quantity = 5;
  CHECK_FALSE(r.needs_push());
  r.error = "rejected";  // a rejection keeps it pending even when the last figure matches
  CHECK(r.needs_push());
  r.error.clear();
  r.store_quantity = 4;
  r.listed = false;  // gone from the feed and kept: left alone
  CHECK_FALSE(r.needs_push());
}

TEST_CASE("the batch in flight round-trips, and a version 1 connection record still reads") {
  ConnectionRecord c;
  c.in_flight_first = "A";
  c.in_flight_last = "Q";
  const auto back = decode_connection(encode(c));
  CHECK(back.in_flight_first == "A");
  CHECK(back.in_flight_last == "Q");
  CHECK(back.has_batch_in_flight());
  // Version 1: version byte, next_run_id, next_due_at, last_full_ok_at, paused.
  std::string v1(1, '\1');
  for (std::uint64_t v : {std::uint64_t{7}, std::uint64_t{8}, std::uint64_t{9}})
    for (int i = 0; i < 8; ++i) v1.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  v1.push_back('\1');
  const auto old = decode_connection(v1);
  CHECK(old.next_run_id == 7);
  CHECK(old.paused);
  CHECK_FALSE(old.has_batch_in_flight());
}

TEST_CASE("an item in doubt needs a push even when the figures agree") {
  ItemRecord r;
  r.wanted = 5;
  r.store_quantity = 5;
  r.in_doubt = true;
  CHECK(r.needs_push());
  CHECK(decode_item(encode(r)).in_doubt);
}

TEST_CASE("a connection record of version 2 (before the stock marks) still decodes") {
  // encode() of a version-2 ConnectionRecord{7, 1000, 900, true, "A", "B"}, byte for byte.
  std::string v2;
  v2.push_back('\x02');
  auto u64 = [&](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) v2.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
  };
  u64(7);
  u64(1000);
  u64(900);
  v2.push_back('\x01');
  u64(1);
  v2 += "A";
  u64(1);
  v2 += "B";
  const auto r = decode_connection(v2);
  CHECK(r.next_run_id == 7);
  CHECK(r.next_due_at == 1000);
  CHECK(r.last_full_ok_at == 900);
  CHECK(r.paused);
  CHECK(r.in_flight_first == "A");
  CHECK(r.in_flight_last == "B");
  CHECK(r.stock_marks.empty());

  ConnectionRecord v3 = r;
  v3.stock_marks = {{19000, 1000}, {19001, 499}};
  CHECK(decode_connection(encode(v3)).stock_marks == v3.stock_marks);
  // Version 3 is version 4 without the FullConfirmation at its end (two times, an empty string).
  auto bytes3 = encode(v3);
  REQUIRE(static_cast<unsigned char>(bytes3[0]) == 4);
  bytes3[0] = 3;
  bytes3.resize(bytes3.size() - 24);
  const auto from3 = decode_connection(bytes3);
  CHECK(from3.stock_marks == v3.stock_marks);
  CHECK(from3.full_confirmation == FullConfirmation{});

  ConnectionRecord v4 = v3;
  v4.full_confirmation = {100, 200, "SKU-9"};
  CHECK(decode_connection(encode(v4)).full_confirmation == v4.full_confirmation);
  CHECK(decode_connection(encode(v4)).stock_marks == v3.stock_marks);
}

TEST_CASE("a SKU's confirmed_at counts a Full Sync's confirmation only where it holds") {
  ItemRecord held{7, 1, 7, true, 7, 50, "", false};
  const FullConfirmation full{100, 200, "M"};
  CHECK(confirmed_at("A", held, {}) == 50);
  CHECK(confirmed_at("A", held, full) == 200);  // within the Full Sync under way's reach
  CHECK(confirmed_at("M", held, full) == 200);
  CHECK(confirmed_at("N", held, full) == 100);  // past it: the last whole one
  held.confirmed_at = 300;
  CHECK(confirmed_at("A", held, full) == 300);  // confirmed alone since
  held.confirmed_at = 50;
  CHECK(confirmed_at("A", held, {0, 200, ""}) == 50);  // a Full Sync with no batch recorded

  // Not known to hold: the SKU's own time.
  auto unlisted = held;
  unlisted.listed = false;
  auto rejected = held;
  rejected.error = "no such SKU";
  auto doubtful = held;
  doubtful.in_doubt = true;
  auto never = held;
  never.store_quantity.reset();
  never.confirmed_at = 0;
  for (const auto& item : {unlisted, rejected, doubtful, never})
    CHECK(confirmed_at("A", item, full) == item.confirmed_at);
}

TEST_CASE("a damaged record throws RecordError and never reads past its bytes") {
  ItemRecord item{5, 1, 5, true, 5, 2, "some error"};
  const auto bytes = encode(item);
  for (std::size_t n = 0; n < bytes.size(); ++n)
    CHECK_THROWS_AS(decode_item(std::string_view(bytes).substr(0, n)), RecordError);
  std::string huge = bytes;
  huge[huge.size() - 11] = '\x7f';  // the error's length: far more than the record holds
  CHECK_THROWS_WITH_AS(decode_item(huge), doctest::Contains("truncated"), RecordError);
  ConnectionRecord c;
  auto conn = encode(c);
  conn[0] = '\x09';
  CHECK_THROWS_WITH_AS(decode_connection(conn), doctest::Contains("unknown version 9"),
                       RecordError);
}
