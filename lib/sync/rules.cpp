#include "sync/rules.hpp"

#include <algorithm>

namespace pb::sync {

Quantity wanted_quantity(Quantity warehouse, const Rules& rules) {
  // Saturating: a negative (oversold) warehouse figure minus a buffer must not wrap.
  if (warehouse <= rules.buffer) return 0;
  return std::max<Quantity>(0, warehouse - rules.buffer);
}

}  // namespace pb::sync
