// Splits RFC 4180 CSV text into records, reading a stream or a string in fixed-size chunks, so
// memory stays bounded by one record whatever the file size. Shared by the CSV feed and store.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace pb::connectors {

struct CsvReaderOptions {
  char delimiter = ',';
  // A longer record is reported (CsvRecordError::too_long) and skipped up to the next line
  // break, so an unterminated quote cannot swallow the rest of a large file into memory.
  std::size_t max_record_bytes = 64 * 1024;
  // Bytes read per refill; tests shrink it so records split across chunk boundaries.
  std::size_t chunk_bytes = 256 * 1024;
  // Checked before each refill: once set, the input ends there and stopped() is true. Null:
  // never stops. A large feed takes seconds to read, and beed must stop within one.
  const std::atomic<bool>* stop = nullptr;
};

enum class CsvRecordError {
  none,
  too_long,            // more than max_record_bytes; the rest of the line was skipped
  text_after_quote,    // "ab"c
  unterminated_quote,  // input ended inside a quoted cell
};

struct CsvRecord {
  std::uint64_t line = 0;      // 1-based line where the record starts
  std::size_t cell_count = 0;  // all cells, kept or not
  // Leading cells complete before `error` happened (== cell_count when there is none): their
  // text can still be trusted, e.g. to name the SKU of a broken row.
  std::size_t good_cells = 0;
  CsvRecordError error = CsvRecordError::none;
  bool blank = false;  // nothing but spaces on the line (no delimiter, no quotes)
  // PlainCsvLines only: a FeedSieve knew the line (known_line), which was not split: no cells.
  bool sieved = false;
  // cells[i], for i < cell_count, holds the text of kept cell i: unquoted cells are trimmed of
  // spaces, tabs and CRs; quoted cells are verbatim. Other entries are empty or stale.
  std::vector<std::string> cells;
};

class CsvRecordReader {
 public:
  // Throws std::invalid_argument for a delimiter that cannot work (quote, CR, LF) or zero sizes.
  CsvRecordReader(std::istream& in, CsvReaderOptions options);
  CsvRecordReader(std::string_view text, CsvReaderOptions options);

  // Keeps the text of these cells only: the feed needs two columns of perhaps many, and
  // copying the others would cost time for nothing. The default keeps every cell.
  void keep_only(const std::vector<std::size_t>& columns);

  // Reads the next record into `record` (reusing its buffers); false at the end of the input.
  // A UTF-8 byte order mark at the start is skipped; CRLF and LF both end a line.
  bool next(CsvRecord& record);

  // Bytes of input consumed so far (up to the end of the last record returned).
  std::uint64_t offset() const { return done_bytes_ + static_cast<std::uint64_t>(pos_ - chunk_); }

  // The stream reported an I/O error (badbit): the records read so far are incomplete.
  bool read_failed() const { return read_failed_; }

  // CsvReaderOptions::stop ended the input: the records read so far are incomplete.
  bool stopped() const { return stopped_; }

 private:
  enum class State { cell_start, unquoted, quoted, quote_in_quoted, after_cell, skipping };

  CsvRecordReader(std::istream* in, std::string_view text, CsvReaderOptions options);
  bool refill();
  bool is_space(char c) const { return c != delimiter_ && (c == ' ' || c == '\t' || c == '\r'); }
  void start_record(CsvRecord& r);
  void start_cell(CsvRecord& r);
  void end_cell(CsvRecord& r);
  void fail(CsvRecord& r, CsvRecordError e);
  // Counts n more bytes of the record; past the limit, fails it and skips to the line's end.
  bool take(CsvRecord& r, std::size_t n);
  const char* span_end() const;
  void append(const char* from, const char* to) {
    if (cell_ != nullptr) cell_->append(from, to);
  }

  std::istream* in_ = nullptr;
  std::string_view text_;
  CsvReaderOptions options_;
  char delimiter_;
  std::vector<char> buffer_;
  const char* chunk_ = nullptr;   // start of the current chunk
  std::uint64_t done_bytes_ = 0;  // bytes in the chunks before it
  const char* pos_ = nullptr;
  const char* end_ = nullptr;
  bool first_chunk_ = true;
  bool read_failed_ = false;
  bool stopped_ = false;

  bool keep_all_ = true;
  std::vector<char> keep_;  // keep_[i] != 0: keep cell i

  // Per-record state.
  bool in_record_ = false;
  State state_ = State::cell_start;
  std::uint64_t line_ = 1;
  std::size_t record_bytes_ = 0;
  std::size_t cell_index_ = 0;
  bool cell_quoted_ = false;
  std::string* cell_ = nullptr;
};

}  // namespace pb::connectors
