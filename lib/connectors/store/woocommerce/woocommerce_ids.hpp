// How the WooCommerce connector names a SKU's place in the store, as kept in
// the LMDB id cache: "12" is product 12, "40/41" is variation 41 of product 40,
// and a SKU several products share lists them all, comma-separated ("12,40/41").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pb::connectors {

struct WooTarget {
  std::uint64_t parent = 0;  // 0: a product; else the variable product owning variation `id`
  std::uint64_t id = 0;

  bool variation() const { return parent != 0; }
  auto operator<=>(const WooTarget&) const = default;
};

std::string encode_targets(const std::vector<WooTarget>& targets);

// nullopt when `text` is not what encode_targets() writes (a cache written by
// another version): the caller looks the SKU up again.
std::optional<std::vector<WooTarget>> decode_targets(std::string_view text);

// Adds `target` unless already there (a walk can meet a product twice when the
// catalogue shifts between pages).
void add_target(std::vector<WooTarget>& targets, WooTarget target);

}  // namespace pb::connectors
