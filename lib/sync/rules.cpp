#include "sync/rules.hpp"

#include <algorithm>

namespace pb::sync {

Quantity wanted_quantity(Quantity warehouse, const Rules& rules) {
  // Saturating: a negative (oversold) warehouse figure minus a buffer must not wrap.
  if (warehouse <= rules.buffer) return 0;
  Quantity left = warehouse - rules.buffer;
  if (rules.buffer_percent > 0) {
    // Rounded up: a 10% buffer on 25 units holds back 3, so the store never shows more than
    // the merchant meant to sell. Divided first so a huge figure cannot overflow.
    const Quantity held = warehouse / 100 * rules.buffer_percent +
                          (warehouse % 100 * rules.buffer_percent + 99) / 100;
    left = held >= left ? 0 : left - held;
  }
  if (left < rules.minimum_distributable) return 0;
  return std::max<Quantity>(0, left);
}

}  // namespace pb::sync
