#include "connectors/warehouse/csv/csv_feed_parser.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "connectors/csv_record_reader.hpp"
#include "connectors/warehouse/csv/plain_csv_lines.hpp"
#include "connectors/warehouse/feed_assembly.hpp"
#include "connectors/warehouse/location_totals.hpp"

namespace pb::connectors {
namespace {

std::size_t find_column(const CsvRecord& header, const std::string& name,
                        const std::string& origin) {
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < header.cell_count; ++i) {
    if (trim_blanks(header.cells[i]) != name) continue;
    if (found)
      throw WarehouseError(origin + ": column " + quote_for_message(name) +
                           " appears twice in the header");
    found = i;
  }
  if (found) return *found;
  std::string columns;
  for (std::size_t i = 0; i < header.cell_count && i < 20; ++i) {
    if (i > 0) columns += ", ";
    columns += quote_for_message(trim_blanks(header.cells[i]));
  }
  if (header.cell_count > 20) columns += ", ...";
  throw WarehouseError(origin + ": no column " + quote_for_message(name) +
                       " in the header (columns: " + columns + ")");
}

class FeedBuilder {
 public:
  FeedBuilder(const CsvFeedOptions& options, std::string origin) : options_(options) {
    feed_.origin = std::move(origin);
    if (!options.location_column.empty())
      locations_.emplace(options.locations);
    else
      sieve_ = options.sieve;
  }

  const std::string& origin() const { return feed_.origin; }

  // Returns the reader's column selection.
  std::vector<std::size_t> set_header(const CsvRecord& header) {
    if (header.error != CsvRecordError::none)
      throw WarehouseError(feed_.origin + ": line 1: the header is not valid CSV");
    sku_column_ = find_column(header, options_.sku_column, feed_.origin);
    quantity_column_ = find_column(header, options_.quantity_column, feed_.origin);
    needed_cells_ = std::max(sku_column_, quantity_column_) + 1;
    if (!locations_) {
      layout_ = layout_of(header);
      return {sku_column_, quantity_column_};
    }
    location_column_ = find_column(header, options_.location_column, feed_.origin);
    needed_cells_ = std::max(needed_cells_, location_column_ + 1);
    return {sku_column_, quantity_column_, location_column_};
  }

  // The sieve to offer lines to (FeedSieve::lines_begin), if it takes them: a line it knows
  // is then never split.
  FeedSieve* line_sieve() const {
    return sieve_ != nullptr && sieve_->lines_begin(layout_) ? sieve_ : nullptr;
  }

  // Not with a sieve: the rows kept are few, and sizing for all would touch the pages saved.
  void reserve(std::size_t rows) {
    if (!locations_ && !sieve_) reserve_rows(feed_, rows);
  }

  void add(const CsvRecord& r) {
    if (r.blank) {
      // Only known to be a problem once a row follows: trailing blank lines are harmless.
      pending_blank_lines_.push_back(r.line);
      return;
    }
    target_ = &feed_;
    for (auto line : pending_blank_lines_) problem(line, {}, "blank line");
    pending_blank_lines_.clear();
    if (r.sieved) {  // the sieve knew the line (line_sieve): its row is the last feed's
      ++feed_.sieved;
      return;
    }

    std::string_view sku = r.good_cells > sku_column_ ? r.cells[sku_column_] : std::string_view{};
    // A row whose location cell cannot be read is a problem of the whole feed.
    if (locations_ && r.good_cells > location_column_) {
      const std::string& location = r.cells[location_column_];
      if (!locations_->wanted(location)) return;
      target_ = &locations_->at(location);
    }
    switch (r.error) {
      case CsvRecordError::none:
        break;
      case CsvRecordError::too_long:
        problem(r.line, sku,
                "row longer than " + std::to_string(options_.max_row_bytes) +
                    " bytes (an unbalanced quote?); skipped to the next line");
        return;
      case CsvRecordError::text_after_quote:
        problem(r.line, sku, "text after the closing quote of a cell");
        return;
      case CsvRecordError::unterminated_quote:
        problem(r.line, sku, "quoted cell not closed before the end of the file");
        return;
    }
    if (r.cell_count < needed_cells_) {
      problem(r.line, sku,
              "too few cells (" + std::to_string(r.cell_count) + "; columns " +
                  quote_for_message(options_.sku_column) + " and " +
                  quote_for_message(options_.quantity_column) + " need " +
                  std::to_string(needed_cells_) + ")");
      return;
    }
    if (sku.empty()) {
      problem(r.line, {}, "no SKU");
      return;
    }
    if (!check_sku(*target_, r.line, sku)) return;
    const std::string& text = r.cells[quantity_column_];
    if (text.empty()) {
      problem(r.line, sku, "blank quantity (blank is not zero)");
      return;
    }
    Quantity quantity = 0;
    switch (parse_quantity(text, quantity)) {
      case QuantityParse::ok:
        if (sieve_ && sieve_->known(sku, quantity)) {
          ++feed_.sieved;
          return;
        }
        target_->rows.push_back(FeedRow{std::string(sku), quantity, r.line});
        return;
      case QuantityParse::not_integer:
        problem(r.line, sku, "quantity " + quote_for_message(text) + " is not an integer");
        return;
      case QuantityParse::out_of_range:
        problem(r.line, sku, "quantity " + quote_for_message(text) + " is out of range");
        return;
    }
  }

  Feed finish() { return finish_rows(feed_, options_.duplicates, locations_); }

 private:
  // What decides how a line becomes a row besides its bytes: the header's cells and the columns
  // read, so that a line matches its old self only when it means the same.
  std::uint64_t layout_of(const CsvRecord& header) const {
    std::string key;
    for (std::size_t i = 0; i < header.cell_count; ++i) {
      key += header.cells[i];
      key += '\0';
    }
    key += '\1' + options_.sku_column + '\0' + options_.quantity_column + '\0' + options_.delimiter;
    return line_hash(key);
  }

  void problem(std::uint64_t line, std::string_view sku, std::string message) {
    add_problem(*target_, line, sku, std::move(message));
  }

  const CsvFeedOptions& options_;
  Feed feed_;
  std::size_t sku_column_ = 0;
  std::size_t quantity_column_ = 0;
  std::size_t location_column_ = 0;
  std::size_t needed_cells_ = 0;
  std::vector<std::uint64_t> pending_blank_lines_;
  std::optional<LocationTotals> locations_;  // with a location column
  Feed* target_ = &feed_;                    // where the current row's row or problem goes
  FeedSieve* sieve_ = nullptr;               // without a location column only
  std::uint64_t layout_ = 0;                 // layout_of(the header), with a sieve
};

// CsvRecordReader behind PlainCsvLines' interface: the general path, for any input.
class GeneralLines {
 public:
  explicit GeneralLines(CsvRecordReader& reader) : reader_(reader) {}
  PlainCsvLines::Next next(CsvRecord& r) {
    return reader_.next(r) ? PlainCsvLines::Next::record : PlainCsvLines::Next::end;
  }
  void keep_only(const std::vector<std::size_t>& columns) { reader_.keep_only(columns); }
  std::uint64_t offset() const { return reader_.offset(); }
  bool read_failed() const { return reader_.read_failed(); }
  bool stopped() const { return reader_.stopped(); }

 private:
  CsvRecordReader& reader_;
};

// `input_bytes` (0 if unknown) sizes the row vector once the first rows show the average row
// length: growing it by doubling would copy the rows repeatedly and leave up to half unused.
// Null when `lines` (the fast path) met a line it cannot split: the caller starts again.
template <class Lines>
std::optional<Feed> parse(Lines& lines, const CsvFeedOptions& options, std::string origin,
                          std::uint64_t input_bytes) {
  using Next = PlainCsvLines::Next;
  FeedBuilder builder(options, std::move(origin));
  const auto check_stopped = [&] {
    if (lines.stopped())
      throw WarehouseError(builder.origin() + ": the read was stopped (beed is stopping)");
  };
  CsvRecord record;
  const auto first = lines.next(record);
  if (first == Next::not_plain) return std::nullopt;
  if (first == Next::end) {
    check_stopped();
    if (lines.read_failed()) throw WarehouseError(builder.origin() + ": read error");
    throw WarehouseError(builder.origin() + ": empty file (expected a header line)");
  }
  check_stopped();
  lines.keep_only(builder.set_header(record));
  // Not to the general reader: a quoted cell may span lines, so a line need not be a row.
  if constexpr (std::is_same_v<Lines, PlainCsvLines>) lines.offer_lines_to(builder.line_sieve());
  constexpr std::uint64_t sample = 1024;
  std::uint64_t records = 0;
  for (;;) {
    const auto got = lines.next(record);
    if (got == Next::not_plain) return std::nullopt;
    if (got == Next::end) break;
    builder.add(record);
    if (++records == sample && input_bytes > lines.offset()) {
      const double per_row = static_cast<double>(lines.offset()) / static_cast<double>(sample);
      builder.reserve(static_cast<std::size_t>(static_cast<double>(input_bytes) / per_row * 1.05));
    }
  }
  // A partial read must not pass for a snapshot: SKUs past the error would look deleted.
  check_stopped();
  if (lines.read_failed()) throw WarehouseError(builder.origin() + ": read error");
  return builder.finish();
}

Feed parse_general(CsvRecordReader& reader, const CsvFeedOptions& options, std::string origin,
                   std::uint64_t input_bytes) {
  GeneralLines lines(reader);
  return *parse(lines, options, std::move(origin), input_bytes);
}

// The bytes left in a seekable stream; 0 for a pipe or on any doubt.
std::uint64_t remaining_bytes(std::istream& in) {
  if (!in.good()) return 0;
  const auto here = in.tellg();
  if (here < 0) return 0;
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  in.clear();
  in.seekg(here);
  if (!in.good() || end < here) {
    in.clear();
    return 0;
  }
  return static_cast<std::uint64_t>(end - here);
}

CsvReaderOptions reader_options(const CsvFeedOptions& options) {
  return CsvReaderOptions{options.delimiter, options.max_row_bytes, options.chunk_bytes,
                          options.stop};
}

}  // namespace

Feed parse_csv_feed(std::istream& in, const CsvFeedOptions& options, std::string origin) {
  std::uint64_t size = remaining_bytes(in);
  if (size == 0) size = options.expected_bytes;
  const auto readers = reader_options(options);
  // The fast path, for a seekable stream: a line it cannot split sends the whole input back to
  // the general reader, from where it started.
  const auto start = in.good() ? in.tellg() : std::istream::pos_type(-1);
  if (start >= 0 && PlainCsvLines::usable(readers)) {
    PlainCsvLines lines(in, readers);
    if (auto feed = parse(lines, options, origin, size)) return std::move(*feed);
    if (options.sieve) options.sieve->restart();
    in.clear();
    in.seekg(start);
    if (!in.good()) throw WarehouseError(origin + ": read error");
  }
  CsvRecordReader reader(in, readers);
  return parse_general(reader, options, std::move(origin), size);
}

Feed parse_csv_feed(std::string_view text, const CsvFeedOptions& options, std::string origin) {
  CsvRecordReader reader(text, reader_options(options));
  return parse_general(reader, options, std::move(origin), text.size());
}

}  // namespace pb::connectors
