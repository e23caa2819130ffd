#include "state/records.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace pb::state {
namespace {

constexpr std::uint8_t kItemV1 = 1;
constexpr std::uint8_t kConnectionV1 = 1;  // up to next_run_id..paused
constexpr std::uint8_t kConnectionV2 = 2;  // + the batch in flight
constexpr std::uint8_t kConnectionV3 = 3;  // + the stock marks of the zeroing guard
constexpr std::uint8_t kConnectionV4 = 4;  // + what the Full Syncs confirmed
// More would mean a corrupt count: the guard keeps a week of marks.
constexpr std::uint64_t kMaxStockMarks = 64;
constexpr std::uint8_t kRunV1 = 1;
constexpr std::uint8_t kSourceReadV1 = 1;

// Little-endian fixed-width fields: records are read far more than written,
// and fixed offsets keep decoding a handful of loads.
class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view in, const char* what) : in_(in), what_(what) {}
  std::uint8_t u8() {
    need(1);
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::uint64_t u64() {
    need(8);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= std::uint64_t{static_cast<unsigned char>(in_[pos_ + static_cast<std::size_t>(i)])}
           << (8 * i);
    pos_ += 8;
    return v;
  }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  std::string str() {
    const std::uint64_t n = u64();
    need(n);
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::uint8_t version_in(std::uint8_t oldest, std::uint8_t newest) {
    const auto v = u8();
    if (v < oldest || v > newest)
      throw RecordError(std::string(what_) + " record has unknown version " + std::to_string(v));
    return v;
  }
  void version(std::uint8_t expected) {
    const auto v = u8();
    if (v != expected)
      throw RecordError(std::string(what_) + " record has unknown version " + std::to_string(v));
  }

 private:
  void need(std::uint64_t n) {
    if (in_.size() - pos_ < n) throw RecordError(std::string(what_) + " record is truncated");
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  const char* what_;
};

template <class E>
E enum_from(std::uint8_t v, std::uint8_t count, const char* what) {
  if (v >= count) throw RecordError(std::string("bad ") + what + " value in record");
  return static_cast<E>(v);
}

}  // namespace

RecordError::RecordError(const std::string& what)
    : std::runtime_error("state record does not decode: " + what +
                         " (the state may be corrupt: see beed --verify-state in beed(8))") {}

std::string encode(const ItemRecord& r) {
  Writer w;
  w.u8(kItemV1);
  w.u8(static_cast<std::uint8_t>((r.listed ? 1 : 0) | (r.store_quantity ? 2 : 0) |
                                 (r.in_doubt ? 4 : 0)));
  w.i64(r.quantity);
  w.i64(r.updated_at);
  w.i64(r.wanted);
  w.i64(r.store_quantity.value_or(0));
  w.i64(r.confirmed_at);
  w.str(r.error);
  return w.take();
}

ItemRecord decode_item(std::string_view bytes) {
  Reader in(bytes, "item");
  in.version(kItemV1);
  ItemRecord r;
  const auto flags = in.u8();
  r.listed = (flags & 1) != 0;
  r.in_doubt = (flags & 4) != 0;
  r.quantity = in.i64();
  r.updated_at = in.i64();
  r.wanted = in.i64();
  const auto store = in.i64();
  if (flags & 2) r.store_quantity = store;
  r.confirmed_at = in.i64();
  r.error = in.str();
  return r;
}

std::string encode(const ConnectionRecord& r) {
  Writer w;
  w.u8(kConnectionV4);
  w.u64(r.next_run_id);
  w.i64(r.next_due_at);
  w.i64(r.last_full_ok_at);
  w.u8(r.paused ? 1 : 0);
  w.str(r.in_flight_first);
  w.str(r.in_flight_last);
  w.u64(r.stock_marks.size());
  for (const auto& mark : r.stock_marks) {
    w.i64(mark.day);
    w.u64(mark.in_stock);
  }
  w.i64(r.full_confirmation.whole_at);
  w.i64(r.full_confirmation.partial_at);
  w.str(r.full_confirmation.partial_to);
  return w.take();
}

ConnectionRecord decode_connection(std::string_view bytes) {
  Reader in(bytes, "connection");
  const auto version = in.version_in(kConnectionV1, kConnectionV4);
  ConnectionRecord r;
  r.next_run_id = in.u64();
  r.next_due_at = in.i64();
  r.last_full_ok_at = in.i64();
  r.paused = in.u8() != 0;
  if (version >= kConnectionV2) {
    r.in_flight_first = in.str();
    r.in_flight_last = in.str();
  }
  if (version >= kConnectionV3) {
    const auto count = in.u64();
    if (count > kMaxStockMarks)
      throw RecordError("connection record has " + std::to_string(count) + " stock marks");
    r.stock_marks.resize(count);
    for (auto& mark : r.stock_marks) {
      mark.day = in.i64();
      mark.in_stock = in.u64();
    }
  }
  if (version >= kConnectionV4) {
    r.full_confirmation.whole_at = in.i64();
    r.full_confirmation.partial_at = in.i64();
    r.full_confirmation.partial_to = in.str();
  }
  return r;
}

UnixMillis confirmed_at(std::string_view sku, const ItemRecord& item,
                        const FullConfirmation& full) {
  if (!item.listed || !item.store_quantity || !item.error.empty() || item.in_doubt)
    return item.confirmed_at;
  UnixMillis at = std::max(item.confirmed_at, full.whole_at);
  if (!full.partial_to.empty() && sku <= full.partial_to) at = std::max(at, full.partial_at);
  return at;
}

std::string encode(const RunRecord& r) {
  Writer w;
  w.u8(kRunV1);
  w.u64(r.id);
  w.u8(static_cast<std::uint8_t>(r.kind));
  w.u8(static_cast<std::uint8_t>(r.trigger));
  w.u8(static_cast<std::uint8_t>(r.result));
  w.i64(r.started_at);
  w.i64(r.finished_at);
  w.u64(r.read);
  w.u64(r.changed);
  w.u64(r.pushed);
  w.u64(r.rejected);
  w.u64(r.bad_rows);
  w.str(r.error);
  return w.take();
}

RunRecord decode_run(std::string_view bytes) {
  Reader in(bytes, "run");
  in.version(kRunV1);
  RunRecord r;
  r.id = in.u64();
  r.kind = enum_from<SyncKind>(in.u8(), 2, "kind");
  r.trigger = enum_from<Trigger>(in.u8(), 2, "trigger");
  r.result = enum_from<RunResult>(in.u8(), 4, "result");
  r.started_at = in.i64();
  r.finished_at = in.i64();
  r.read = in.u64();
  r.changed = in.u64();
  r.pushed = in.u64();
  r.rejected = in.u64();
  r.bad_rows = in.u64();
  r.error = in.str();
  return r;
}

std::string encode(const SourceReadRecord& r) {
  Writer w;
  w.u8(kSourceReadV1);
  w.str(r.fingerprint);
  w.str(r.validator);
  w.str(r.cursor);
  w.i64(r.read_at);
  return w.take();
}

SourceReadRecord decode_source_read(std::string_view bytes) {
  Reader in(bytes, "source read");
  in.version_in(kSourceReadV1, kSourceReadV1);
  SourceReadRecord r;
  r.fingerprint = in.str();
  r.validator = in.str();
  r.cursor = in.str();
  r.read_at = in.i64();
  return r;
}

}  // namespace pb::state
