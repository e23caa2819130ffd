// A source that lists stock per location (a column or field naming it): the rows of the wanted
// locations, each location's rows resolved on their own, then added up per SKU. Rows of one SKU
// at two locations are stock in two places, not a duplicate.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/warehouse/feed.hpp"
#include "core/types.hpp"

namespace pb::connectors {

class LocationTotals {
 public:
  // `wanted` empty: every location counts, a blank one too.
  explicit LocationTotals(std::vector<std::string> wanted);

  // Whether rows at `location` count. A row at another location is left out before it is
  // looked at: a bad row there holds nothing.
  bool wanted(std::string_view location) const;

  // The rows and problems found at `location` (add them with feed_assembly's rules).
  Feed& at(std::string_view location);

  // Resolves each location's duplicates by `duplicates` (finish_feed), then moves every row,
  // problem and held SKU into `feed` and adds up each SKU's rows across locations (a problem if
  // the sum overflows). A SKU held at one location is held: its total would be wrong. `feed`'s
  // own problems (rows whose location could not be read) stay; it must have no rows. Call once.
  void finish_into(Feed& feed, DuplicatePolicy duplicates);

 private:
  std::vector<std::string> wanted_;  // sorted
  std::map<std::string, Feed, std::less<>> parts_;
};

// A reader's last step, with or without locations: LocationTotals::finish_into, or
// finish_feed. Returns the finished feed.
Feed finish_rows(Feed& feed, DuplicatePolicy duplicates, std::optional<LocationTotals>& locations);

}  // namespace pb::connectors
