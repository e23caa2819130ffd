// A warehouse snapshot as the sync engine consumes it: one row per SKU,
// sorted by SKU, plus the problems found while reading it.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"
#include "core/utf8.hpp"

namespace pb::connectors {

// The source could not be read at all (missing file, unreadable, no header).
// The run fails and nothing changes. Declared here rather than in
// warehouse.hpp so that the feed parsers (and their fuzzers) need no Asio.
// The message often quotes the source (a header cell, a file name, an excerpt of an HTTP
// body): bytes that are not UTF-8 are escaped here, once for every source, as the message
// goes to the history and to beectl as JSON.
class WarehouseError : public std::runtime_error {
 public:
  explicit WarehouseError(const std::string& what)
      : std::runtime_error(utf8::escape_invalid(what)) {}
  explicit WarehouseError(const char* what) : WarehouseError(std::string(what)) {}
};

struct FeedRow {
  std::string sku;
  Quantity quantity = 0;
  // 1-based line of the (first) row in the source: the row number of a query result, the item
  // number (over all pages) of a JSON source.
  std::uint64_t line = 0;
};

// A row the reader could not use: no SKU, a quantity that is not an integer,
// a duplicate SKU (unless duplicates are summed), a short row, ...
struct FeedProblem {
  std::uint64_t line = 0;
  std::string sku;  // empty when the row has none
  std::string message;
};

struct Feed {
  std::string origin;         // file path or URL, for messages and logs; valid UTF-8 (escaped)
  std::vector<FeedRow> rows;  // sorted by sku (byte order), SKUs unique
  std::vector<FeedProblem> problems;  // in line order
  // SKUs named by a problem row: they keep their previous state (they are not
  // "missing" from the snapshot). Sorted, unique.
  std::vector<std::string> held_skus;

  // The source says nothing changed since ReadRequest::validator (HTTP 304): no rows, no
  // problems, and what is stored for this source stands.
  bool unchanged = false;
  // The rows are only what changed since ReadRequest::cursor (an incremental read): a SKU
  // without a row keeps its stored quantity instead of leaving the snapshot.
  bool delta = false;
  // Opaque to the engine; stored with this feed's rows, in the transaction that commits the
  // last of them, and handed back in the next ReadRequest. Empty: none.
  std::string validator;  // e.g. an ETag or a Last-Modified date
  std::string cursor;     // e.g. the newest updated_at the rows carried
  // Rows a FeedSieve knew and the reader dropped: the feed's row count is rows.size() + sieved.
  std::uint64_t sieved = 0;
};

// Optional with a read (ReadRequest::sieve): what the engine already has of the last feed
// applied. A reader that supports it keeps only the rows the sieve does not know, and counts
// the others in Feed::sieved, so that a million unchanged rows are never stored to be compared.
class FeedSieve {
 public:
  virtual ~FeedSieve() = default;
  // True: (sku, quantity) is a row of the last feed as it was, seen for the first time in this
  // read; the reader drops the row. False: keep the row as usual. Called on the reader's thread.
  virtual bool known(std::string_view sku, Quantity quantity) = 0;
  // The reader starts the input over (the CSV parser's fast path met a line it cannot split):
  // every answer so far is forgotten, as the rows will be seen again.
  virtual void restart() = 0;

  // Line by line (optional), for a reader whose rows are lines of text: an unchanged row then
  // costs a hash and a compare, not a parse. `layout` stands for the header and the columns
  // read (another layout: no line of the last feed matches); true when the sieve takes the
  // lines, which the reader then offers from the next one on, all but blank ones, in order.
  virtual bool lines_begin(std::uint64_t layout) {
    static_cast<void>(layout);
    return false;
  }
  // A line's hash (line_hash), before it is parsed. True: it is the last feed's line at this
  // place, byte for byte, so its row is known as with known(): the reader drops it unparsed
  // and counts it in Feed::sieved. False: the reader parses it as usual.
  virtual bool known_line(std::uint64_t hash) {
    static_cast<void>(hash);
    return false;
  }
};

// The hash known_line takes: 64 bits of the line's bytes (without its line break). libstdc++'s
// string hash (MurmurHash64A), ~3 GB/s here: a changed line passes for the old one with a
// chance of 2^-64, far below a disk's undetected error rate.
inline std::uint64_t line_hash(std::string_view line) {
  static_assert(sizeof(std::size_t) == 8, "a 64-bit hash");
  return std::hash<std::string_view>{}(line);
}

}  // namespace pb::connectors
