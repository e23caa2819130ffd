#include "connectors/warehouse/location_totals.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

#include "connectors/warehouse/feed_assembly.hpp"

namespace pb::connectors {

LocationTotals::LocationTotals(std::vector<std::string> wanted) : wanted_(std::move(wanted)) {
  std::sort(wanted_.begin(), wanted_.end());
}

bool LocationTotals::wanted(std::string_view location) const {
  return wanted_.empty() || std::binary_search(wanted_.begin(), wanted_.end(), location);
}

Feed& LocationTotals::at(std::string_view location) {
  auto it = parts_.find(location);
  if (it == parts_.end()) it = parts_.emplace(std::string(location), Feed{}).first;
  return it->second;
}

void LocationTotals::finish_into(Feed& feed, DuplicatePolicy duplicates) {
  std::size_t rows = 0;
  for (auto& [location, part] : parts_) {
    finish_feed(part, duplicates);
    rows += part.rows.size();
  }
  reserve_rows(feed, rows);
  for (auto& [location, part] : parts_) {
    std::move(part.rows.begin(), part.rows.end(), std::back_inserter(feed.rows));
    std::move(part.problems.begin(), part.problems.end(), std::back_inserter(feed.problems));
    std::move(part.held_skus.begin(), part.held_skus.end(), std::back_inserter(feed.held_skus));
  }
  parts_.clear();
  // Each location now has one row per SKU: what is left to add up are other locations' rows.
  finish_feed(feed, DuplicatePolicy::sum);
}

Feed finish_rows(Feed& feed, DuplicatePolicy duplicates, std::optional<LocationTotals>& locations) {
  if (locations)
    locations->finish_into(feed, duplicates);
  else
    finish_feed(feed, duplicates);
  return std::move(feed);
}

}  // namespace pb::connectors
