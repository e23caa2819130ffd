// The feed parser's fast path: splits a CSV stream whose lines hold no quote into the same
// CsvRecords CsvRecordReader gives (cells split on the delimiter and trimmed of spaces, tabs
// and CRs), with one memchr per line and per cell instead of a state machine per byte. The
// first line it cannot split that way (a quote, a line over the size limit) ends it: the caller
// parses the whole input again with CsvRecordReader.
#pragma once

#include <cstdint>
#include <istream>
#include <vector>

#include "connectors/csv_record_reader.hpp"
#include "connectors/warehouse/feed.hpp"

namespace pb::connectors {

class PlainCsvLines {
 public:
  enum class Next { record, end, not_plain };

  // Whether the fast path can split with this delimiter (one that is also a space cannot).
  static bool usable(const CsvReaderOptions& options);

  PlainCsvLines(std::istream& in, const CsvReaderOptions& options);

  void keep_only(const std::vector<std::size_t>& columns);
  // From the next line on, each line that is not blank goes to `sieve` (FeedSieve::known_line)
  // before it is split; one it knows comes back as a record with `sieved` set and no cells.
  void offer_lines_to(FeedSieve* sieve) { sieve_ = sieve; }
  Next next(CsvRecord& record);

  std::uint64_t offset() const { return consumed_; }
  bool read_failed() const { return read_failed_; }
  bool stopped() const { return stopped_; }

 private:
  bool refill();  // more input after the unread part; false at its end
  void split(const char* from, const char* to, CsvRecord& record);

  std::istream& in_;
  CsvReaderOptions options_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;  // the unread part of buffer_
  bool at_eof_ = false;
  bool first_ = true;  // a byte order mark is skipped at the start
  std::uint64_t line_ = 1;
  std::uint64_t consumed_ = 0;
  bool read_failed_ = false;
  bool stopped_ = false;
  std::vector<char> keep_;
  bool keep_all_ = true;
  FeedSieve* sieve_ = nullptr;
};

}  // namespace pb::connectors
