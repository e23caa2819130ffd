#include "connectors/csv_record_reader.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace pb::connectors {

CsvRecordReader::CsvRecordReader(std::istream& in, CsvReaderOptions options)
    : CsvRecordReader(&in, {}, options) {}

CsvRecordReader::CsvRecordReader(std::string_view text, CsvReaderOptions options)
    : CsvRecordReader(nullptr, text, options) {}

CsvRecordReader::CsvRecordReader(std::istream* in, std::string_view text, CsvReaderOptions options)
    : in_(in), text_(text), options_(options), delimiter_(options.delimiter) {
  if (delimiter_ == '"' || delimiter_ == '\n' || delimiter_ == '\r')
    throw std::invalid_argument("CSV delimiter cannot be a quote or a line break");
  if (options_.chunk_bytes == 0 || options_.max_record_bytes == 0)
    throw std::invalid_argument("CSV chunk and record sizes must be positive");
  if (in_ != nullptr) buffer_.resize(std::max<std::size_t>(options_.chunk_bytes, 3));
}

void CsvRecordReader::keep_only(const std::vector<std::size_t>& columns) {
  keep_all_ = false;
  keep_.assign(columns.empty() ? 0 : *std::max_element(columns.begin(), columns.end()) + 1, 0);
  for (auto c : columns) keep_[c] = 1;
}

bool CsvRecordReader::refill() {
  // The first chunk holds at least three bytes so that a byte order mark is never split.
  const std::size_t want =
      first_chunk_ ? std::max<std::size_t>(options_.chunk_bytes, 3) : options_.chunk_bytes;
  done_bytes_ += static_cast<std::uint64_t>(end_ - chunk_);
  chunk_ = end_;
  if (options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed)) {
    stopped_ = true;
    return false;
  }
  if (in_ != nullptr) {
    if (!in_->good()) return false;
    in_->read(buffer_.data(), static_cast<std::streamsize>(want));
    if (in_->bad()) read_failed_ = true;
    const std::streamsize got = in_->gcount();
    if (got <= 0) return false;
    pos_ = chunk_ = buffer_.data();
    end_ = pos_ + got;
  } else {
    if (text_.empty()) return false;
    const std::size_t n = std::min(want, text_.size());
    pos_ = chunk_ = text_.data();
    end_ = pos_ + n;
    text_.remove_prefix(n);
  }
  if (first_chunk_) {
    first_chunk_ = false;
    if (end_ - pos_ >= 3 && std::memcmp(pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;
  }
  return true;
}

void CsvRecordReader::start_record(CsvRecord& r) {
  in_record_ = true;
  r.line = line_;
  r.cell_count = 0;
  r.good_cells = 0;
  r.error = CsvRecordError::none;
  r.blank = true;
  record_bytes_ = 0;
  state_ = State::cell_start;
  cell_index_ = 0;
  start_cell(r);
}

void CsvRecordReader::start_cell(CsvRecord& r) {
  cell_quoted_ = false;
  if (keep_all_ || (cell_index_ < keep_.size() && keep_[cell_index_] != 0)) {
    if (r.cells.size() <= cell_index_) r.cells.resize(cell_index_ + 1);
    cell_ = &r.cells[cell_index_];
    cell_->clear();
  } else {
    cell_ = nullptr;
  }
}

void CsvRecordReader::end_cell(CsvRecord& r) {
  if (cell_ != nullptr && !cell_quoted_) {
    while (!cell_->empty() && is_space(cell_->back())) cell_->pop_back();
  }
  ++cell_index_;
  r.cell_count = cell_index_;
  if (r.error == CsvRecordError::none) r.good_cells = r.cell_count;
}

void CsvRecordReader::fail(CsvRecord& r, CsvRecordError e) {
  if (r.error != CsvRecordError::none) return;
  r.error = e;
  r.good_cells = r.cell_count;
}

bool CsvRecordReader::take(CsvRecord& r, std::size_t n) {
  if (n <= options_.max_record_bytes - record_bytes_) {
    record_bytes_ += n;
    return true;
  }
  fail(r, CsvRecordError::too_long);
  r.blank = false;
  cell_ = nullptr;
  state_ = State::skipping;
  return false;
}

const char* CsvRecordReader::span_end() const {
  // Stopping exactly at the limit makes the skipped range independent of the chunk size.
  const std::size_t room = options_.max_record_bytes - record_bytes_;
  const auto left = static_cast<std::size_t>(end_ - pos_);
  return pos_ + std::min(room, left);
}

// A parser state machine, kept whole on purpose (the one exception to the 80-line rule): the
// states pass control to each other through state_, pos_ and the record's byte budget within
// one loop, and reading the cases side by side is how one checks that every byte is counted
// once and every way out ends the record exactly once. Split per state, each piece would have
// to hand "the record ended" and "out of room" back to this loop.
bool CsvRecordReader::next(CsvRecord& r) {
  for (;;) {
    if (pos_ == end_ && !refill()) {
      if (!in_record_) return false;
      if (state_ == State::quoted) fail(r, CsvRecordError::unterminated_quote);
      if (state_ != State::skipping) end_cell(r);
      in_record_ = false;
      return true;
    }
    if (pos_ == end_) continue;  // the chunk held only a byte order mark
    if (!in_record_) start_record(r);

    // Line breaks that end a record never count towards its length; every other byte does.
    while (pos_ != end_) {
      switch (state_) {
        case State::cell_start: {
          const char c = *pos_;
          if (c == '\n') {
            ++pos_;
            ++line_;
            end_cell(r);
            in_record_ = false;
            return true;
          }
          if (c == delimiter_) {
            if (!take(r, 1)) break;
            ++pos_;
            r.blank = false;
            end_cell(r);
            start_cell(r);
          } else if (is_space(c)) {
            if (!take(r, 1)) break;
            ++pos_;
          } else if (c == '"') {
            if (!take(r, 1)) break;
            ++pos_;
            r.blank = false;
            cell_quoted_ = true;
            state_ = State::quoted;
          } else {
            r.blank = false;
            state_ = State::unquoted;
          }
          break;
        }
        case State::unquoted: {
          const char* stop = span_end();
          const char* p = pos_;
          while (p != stop && *p != delimiter_ && *p != '\n') ++p;
          append(pos_, p);
          take(r, static_cast<std::size_t>(p - pos_));
          pos_ = p;
          if (p == end_) break;
          if (*p == delimiter_ || *p == '\n')
            state_ = State::after_cell;
          else
            take(r, 1);  // out of room: fails
          break;
        }
        case State::quoted: {
          const char* stop = span_end();
          const char* p = pos_;
          while (p != stop && *p != '"' && *p != '\n') ++p;
          append(pos_, p);
          take(r, static_cast<std::size_t>(p - pos_));
          pos_ = p;
          if (p == end_ || !take(r, 1)) break;
          if (*p == '\n') {
            append(p, p + 1);
            ++line_;
          } else {
            state_ = State::quote_in_quoted;
          }
          ++pos_;
          break;
        }
        case State::quote_in_quoted: {
          if (*pos_ == '"') {
            if (!take(r, 1)) break;
            append(pos_, pos_ + 1);
            ++pos_;
            state_ = State::quoted;
          } else {
            state_ = State::after_cell;
          }
          break;
        }
        case State::after_cell: {
          const char c = *pos_;
          if (c == '\n') {
            ++pos_;
            ++line_;
            end_cell(r);
            in_record_ = false;
            return true;
          }
          if (c == delimiter_) {
            if (!take(r, 1)) break;
            ++pos_;
            end_cell(r);
            start_cell(r);
            state_ = State::cell_start;
          } else if (is_space(c)) {
            if (!take(r, 1)) break;
            ++pos_;
          } else {
            // Lenient: keep the stray text so the row can end normally, but flag it.
            fail(r, CsvRecordError::text_after_quote);
            state_ = State::unquoted;
          }
          break;
        }
        case State::skipping: {
          const void* nl = std::memchr(pos_, '\n', static_cast<std::size_t>(end_ - pos_));
          if (nl == nullptr) {
            pos_ = end_;
            break;
          }
          pos_ = static_cast<const char*>(nl) + 1;
          ++line_;
          in_record_ = false;
          return true;
        }
      }
    }
  }
}

}  // namespace pb::connectors
