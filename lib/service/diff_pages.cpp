#include "service/diff_pages.hpp"

#include <utility>

namespace pb::service {
namespace {

boost::json::value optional_json(const std::optional<Quantity>& q) {
  return q ? boost::json::value(*q) : boost::json::value(nullptr);
}

}  // namespace

boost::json::object change_json(const sync::PlannedChange& c) {
  return {{"sku", c.sku},
          {"quantity", c.quantity},
          {"previous_quantity", optional_json(c.previous_quantity)},
          {"wanted", c.wanted},
          {"store_quantity", optional_json(c.store_quantity)},
          {"reason", c.reason}};
}

std::size_t change_bytes_bound(const sync::PlannedChange& c) {
  // Six members with their keys, four 20-digit numbers, a short reason: under 200 bytes.
  return 200 + 6 * c.sku.size();
}

DiffPager::DiffPager(state::InventoryDb& db, std::string connection, const connectors::Feed& feed,
                     const sync::Rules& rules, std::optional<std::string> after,
                     std::uint64_t limit, PageBounds bounds)
    : db_(db),
      connection_(std::move(connection)),
      feed_(feed),
      rules_(rules),
      bounds_(bounds),
      now_(now_millis()),
      position_(std::move(after)),
      limit_(limit) {}

void DiffPager::step() {
  if (done_ || full_) return;
  // Adds `c` to the page; false when the page has no room for it.
  const auto add = [&](sync::PlannedChange& c) {
    if (counting_only_ || (limit_ != 0 && listed_ >= limit_)) return true;  // counted only
    const std::size_t bytes = change_bytes_bound(c);
    if (page_.changes.size() >= bounds_.max_items ||
        (!page_.changes.empty() && page_.bytes + bytes > bounds_.max_bytes))
      return false;
    page_.changes.push_back(change_json(c));
    page_.bytes += bytes;
    ++listed_;
    last_listed_ = c.sku;
    return true;
  };
  if (carried_) {
    add(*carried_);  // the first of an empty page: always fits
    carried_.reset();
  }
  done_ = sync::walk_preview(db_, connection_, feed_, rules_, now_, position_,
                             [&](sync::PlannedChange&& c) {
                               ++total_;
                               position_ = c.sku;
                               if (add(c)) return true;
                               carried_ = std::move(c);
                               full_ = true;
                               return false;
                             });
  // A walk stopped on its very last SKU is done, yet that SKU still waits for a page.
  if (carried_) done_ = false;
}

DiffPage DiffPager::take() {
  DiffPage page = std::exchange(page_, {});
  page.last = done_;
  page.total = total_;
  if (done_) {
    page.truncated = listed_ < total_;
    if (page.truncated) page.next_after = last_listed_;
  } else {
    page.next_after = last_listed_;
  }
  full_ = false;
  return page;
}

}  // namespace pb::service
