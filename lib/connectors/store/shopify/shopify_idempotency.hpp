// The @idempotent key of an inventorySetQuantities call, derived from what the
// call says rather than drawn at random: a resend of the same call (a network
// retry, or the engine pushing the same items again in the same run) carries
// the same key, so Shopify applies it once; a call that differs in anything
// (another run, another item, another quantity) gets another key.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "connectors/store/shopify/shopify_graphql.hpp"

namespace pb::connectors::shopify {

// SHA-256 over the reference document URI, the location and every (item,
// quantity) pair in order, plus `generation` when non-zero (a fresh key for
// the same content, after Shopify reports IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED).
// Formatted as a UUID (version 8, RFC 9562 "custom": 36 characters, the form
// Shopify recommends), from the hash's first 122 bits.
std::string idempotency_key(std::string_view reference_uri, std::string_view location_id,
                            const std::vector<QuantityInput>& quantities, unsigned generation = 0);

}  // namespace pb::connectors::shopify
