// How beectl prints a listing beed streams in pages (`inventory`, `diff` with
// "stream": true): each page as it arrives, so beectl holds one page at a time.
// Tables keep the column widths of the first page; --json prints one JSON
// object, as for a single reply, with the list first and the reply's other
// members after it (they arrive last).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "cli/table.hpp"
#include "control/commands.hpp"
#include "control/message.hpp"

namespace pb::cli {

class PagedOutput {
 public:
  // For inventory and diff; any other command has no pages (page() returns nothing).
  PagedOutput(control::CommandId command, bool json);

  // The text for a page event ("items", "changes"); nothing for any other event.
  std::optional<std::string> page(const control::Event& event);
  // Whether a page was printed: the reply must then go through finish().
  bool started() const { return started_; }
  // The rest of the output, from the final reply's data: its own page, then what follows.
  std::string finish(const boost::json::value& data);

 private:
  std::string print(const boost::json::array& list, bool first);

  control::CommandId command_;
  bool json_;
  std::string_view list_key_;    // "items" or "changes"; empty: not a paged command
  std::string_view event_name_;  // the same names
  std::vector<std::size_t> widths_;
  std::uint64_t shown_ = 0;
  bool started_ = false;
};

}  // namespace pb::cli
