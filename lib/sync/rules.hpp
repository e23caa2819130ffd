// The inventory rules between the warehouse figure and what the store shows.
// Full and Smart Sync apply the very same function, so they never disagree.
#pragma once

#include "config/config.hpp"
#include "core/types.hpp"

namespace pb::sync {

struct Rules {
  Quantity buffer = 0;
  MissingSkus missing_skus = MissingSkus::keep;

  static Rules from(const config::InventoryConfig& inventory) {
    return Rules{inventory.buffer, inventory.missing_skus};
  }
};

// What the store should hold for a warehouse quantity: never below zero.
Quantity wanted_quantity(Quantity warehouse, const Rules& rules);

}  // namespace pb::sync
