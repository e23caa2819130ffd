#include "connectors/warehouse/csv/plain_csv_lines.hpp"

#include <algorithm>
#include <cstring>

namespace pb::connectors {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

// Nothing but blanks: split() gives such a line `blank` (a row's line starts with its SKU, so
// this usually looks at one byte).
bool blank_line(const char* from, const char* to) {
  while (from != to && is_blank(*from)) ++from;
  return from == to;
}

}  // namespace

bool PlainCsvLines::usable(const CsvReaderOptions& options) {
  return !is_blank(options.delimiter) && options.delimiter != '"' && options.delimiter != '\n' &&
         options.chunk_bytes > 0 && options.max_record_bytes > 0;
}

PlainCsvLines::PlainCsvLines(std::istream& in, const CsvReaderOptions& options)
    : in_(in), options_(options) {
  // Room for a chunk and a line carried over from the last one.
  buffer_.resize(options.chunk_bytes + options.max_record_bytes + 1);
}

void PlainCsvLines::keep_only(const std::vector<std::size_t>& columns) {
  keep_all_ = false;
  keep_.assign(columns.empty() ? 0 : *std::max_element(columns.begin(), columns.end()) + 1, 0);
  for (auto c : columns) keep_[c] = 1;
}

bool PlainCsvLines::refill() {
  if (at_eof_) return false;
  // As CsvRecordReader: the stop flag is checked before each read, and ends the input.
  if (options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed)) {
    stopped_ = true;
    at_eof_ = true;
    return false;
  }
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  const std::size_t room = std::min(options_.chunk_bytes, buffer_.size() - end_);
  in_.read(buffer_.data() + end_, static_cast<std::streamsize>(room));
  if (in_.bad()) read_failed_ = true;
  const std::streamsize got = in_.gcount();
  if (got <= 0 || !in_.good()) at_eof_ = true;
  if (got <= 0) return false;
  end_ += static_cast<std::size_t>(got);
  if (first_ && end_ - begin_ >= 3) {
    first_ = false;
    if (std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) {
      begin_ += 3;
      consumed_ += 3;
    }
  }
  return true;
}

PlainCsvLines::Next PlainCsvLines::next(CsvRecord& r) {
  const char* newline = nullptr;
  for (;;) {
    newline = static_cast<const char*>(std::memchr(buffer_.data() + begin_, '\n', end_ - begin_));
    if (newline != nullptr) break;
    // A line longer than the limit is CsvRecordReader's to report.
    if (end_ - begin_ > options_.max_record_bytes) return Next::not_plain;
    if (!refill()) {
      if (first_ && end_ - begin_ > 0) return Next::not_plain;  // under 3 bytes: a BOM's edge
      if (end_ == begin_) return Next::end;
      break;  // the last line, without a line break
    }
  }
  const char* from = buffer_.data() + begin_;
  const char* to = newline != nullptr ? newline : buffer_.data() + end_;
  const auto length = static_cast<std::size_t>(to - from);
  if (length > options_.max_record_bytes) return Next::not_plain;
  // A line the sieve knows was split by this path last time: it holds no quote.
  if (sieve_ != nullptr && !blank_line(from, to) &&
      sieve_->known_line(line_hash(std::string_view(from, length)))) {
    r.line = line_++;
    r.error = CsvRecordError::none;
    r.blank = false;
    r.sieved = true;
    r.cell_count = 0;
    r.good_cells = 0;
  } else {
    if (std::memchr(from, '"', length) != nullptr) return Next::not_plain;
    split(from, to, r);
  }
  const std::size_t used = length + (newline != nullptr ? 1 : 0);
  begin_ += used;
  consumed_ += used;
  return Next::record;
}

void PlainCsvLines::split(const char* from, const char* to, CsvRecord& r) {
  r.line = line_++;
  r.error = CsvRecordError::none;
  r.blank = true;
  r.sieved = false;
  std::size_t index = 0;
  for (const char* cell = from;; ++index) {
    const auto* delimiter = static_cast<const char*>(
        std::memchr(cell, options_.delimiter, static_cast<std::size_t>(to - cell)));
    const char* cell_end = delimiter != nullptr ? delimiter : to;
    const char* a = cell;
    const char* b = cell_end;
    while (a != b && is_blank(*a)) ++a;
    while (b != a && is_blank(b[-1])) --b;
    if (a != b || delimiter != nullptr) r.blank = false;
    if (keep_all_ || (index < keep_.size() && keep_[index] != 0)) {
      if (r.cells.size() <= index) r.cells.resize(index + 1);
      r.cells[index].assign(a, b);
    }
    if (delimiter == nullptr) break;
    cell = delimiter + 1;
  }
  r.cell_count = index + 1;
  r.good_cells = r.cell_count;
}

}  // namespace pb::connectors
