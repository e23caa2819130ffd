// What a SKU must be for PackageBee to keep it: the state stores it in an LMDB key and the
// control protocol sends it as a JSON string.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pb {

// The longest SKU, in bytes (Shopify allows 255 characters; an ASCII SKU of that length fits).
// A state key is CONNECTION\0SKU: with a connection name of at most 64 bytes
// (is_valid_connection_name) that is at most 320 bytes, under LMDB's 511-byte key limit.
inline constexpr std::size_t kMaxSkuBytes = 255;
inline constexpr std::size_t kMaxConnectionNameBytes = 64;
static_assert(kMaxConnectionNameBytes + 1 + kMaxSkuBytes <= 511, "a state key must fit LMDB's");

// Why `sku` cannot be kept ("is longer than 255 bytes (300)", "is not valid UTF-8"), or
// nothing. An empty SKU is the caller's business (a feed calls it "no SKU").
std::optional<std::string> sku_problem(std::string_view sku);

}  // namespace pb
