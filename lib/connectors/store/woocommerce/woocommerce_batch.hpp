// The stock updates of one push as WooCommerce batch requests: grouped by
// endpoint (products, or the variations of one parent), at most 100 objects a
// request, and what the store's answer says about each object.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "connectors/store/woocommerce/woocommerce_ids.hpp"
#include "core/types.hpp"

namespace pb::connectors {

// WooCommerce refuses a batch of more than 100 objects (create + update + delete)
// with HTTP 413 woocommerce_rest_request_entity_too_large.
constexpr std::size_t kWooBatchLimit = 100;

struct WooUpdate {
  std::size_t item = 0;  // the position of its SKU in the push
  WooTarget target;
  Quantity quantity = 0;
};

struct WooBatch {
  std::uint64_t parent = 0;  // 0: products/batch; else products/{parent}/variations/batch
  std::vector<WooUpdate> updates;

  std::string resource() const;
};

// Groups `updates` by endpoint, in order of first appearance, cut into requests of at
// most `limit` objects.
std::vector<WooBatch> plan_batches(const std::vector<WooUpdate>& updates,
                                   std::size_t limit = kWooBatchLimit);

// {"update":[{"id":12,"stock_quantity":7,"manage_stock":true},...]}: managing stock is
// switched on too, or WooCommerce ignores the quantity of a product that does not manage it.
std::string batch_body(const WooBatch& batch);

enum class WooItemStatus {
  confirmed,   // the answer shows the object with the quantity sent
  rejected,    // the store refused it (an error of status 4xx, or it kept another quantity)
  transient,   // an error of status 5xx, or no answer for it: may work later
  invalid_id,  // the id is gone (woocommerce_rest_*_invalid_id): the cache is stale
};

struct WooItemResult {
  WooItemStatus status = WooItemStatus::transient;
  std::string message;  // the store's words, "code: message"
};

// One result per update of `batch`, from the body of its 200 answer. Answers are matched
// by position (WooCommerce answers in request order) and checked by id.
std::vector<WooItemResult> read_batch_reply(const boost::json::value& body, const WooBatch& batch);

}  // namespace pb::connectors
