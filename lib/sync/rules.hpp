// The inventory rules between the warehouse figure and what the store shows.
// Full and Smart Sync apply the very same function, so they never disagree.
#pragma once

#include <chrono>

#include "config/config.hpp"
#include "core/types.hpp"

namespace pb::sync {

struct Rules {
  Quantity buffer = 0;     // units held back
  int buffer_percent = 0;  // or this share of the quantity, rounded up
  Quantity minimum_distributable = 0;
  MissingSkus missing_skus = MissingSkus::keep;
  // A SKU the store confirmed longer ago than this is pushed again, so a write the store lost
  // cannot persist. 0: never.
  UnixMillis repush_after = 0;

  static Rules from(const config::InventoryConfig& inventory) {
    return Rules{
        inventory.buffer, inventory.buffer_percent, inventory.minimum_distributable,
        inventory.missing_skus,
        std::chrono::duration_cast<std::chrono::milliseconds>(inventory.repush_after).count()};
  }
};

// What the store should hold for a warehouse quantity: the quantity less the buffer, 0 when
// that is below `minimum_distributable`, never below zero.
Quantity wanted_quantity(Quantity warehouse, const Rules& rules);

}  // namespace pb::sync
