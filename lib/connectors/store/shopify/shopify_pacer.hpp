// Pacing against Shopify's leaky bucket of cost points (per app and shop):
// from the throttleStatus of the last answer, estimate what the bucket holds
// now and how long until it holds what the next call needs. Plain arithmetic
// on time points; the waiting itself is the caller's (a steady_timer).
//
// Why wait for the *requested* cost: Shopify lets a query run only when the
// bucket holds its requested cost, and refunds the difference to the actual
// cost afterwards. So the next call of a kind needs what the last one of that
// kind requested; the refund keeps the long-run rate at the actual cost.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>

#include "connectors/store/shopify/shopify_graphql.hpp"

namespace pb::connectors::shopify {

enum class CallKind : std::size_t {
  token_check,
  catalogue_page,
  sku_lookup,
  set_quantities,
  bulk_operation,  // starting or polling a bulk operation
};

class CostPacer {
 public:
  using Clock = std::chrono::steady_clock;

  // Records an answer's cost block, received at `at`.
  void observe(const QueryCost& cost, CallKind kind, Clock::time_point at);

  // The points the bucket holds at `now` by the last status seen (refilled at
  // restoreRate since, capped at the maximum); nullopt before any status.
  std::optional<double> available_at(Clock::time_point now) const;

  // How long to wait before a call of `kind`: the deficit between what the
  // last call of that kind requested and the estimate above, divided by the
  // restore rate, rounded up to the next millisecond. Zero when nothing is
  // known yet.
  std::chrono::milliseconds delay_before(CallKind kind, Clock::time_point now) const;

  // After a THROTTLED answer: (requested - currentlyAvailable) / restoreRate,
  // rounded up to the next millisecond (at least 1 ms, so a resend never spins).
  static std::chrono::milliseconds throttled_delay(const QueryCost& cost);

  // The requested cost last seen for `kind` (0 if none).
  double expected_cost(CallKind kind) const { return expected_[static_cast<std::size_t>(kind)]; }

 private:
  std::optional<ThrottleStatus> status_;
  Clock::time_point seen_at_{};
  std::array<double, 5> expected_{};
};

// seconds -> milliseconds, rounded up; negative and NaN give zero.
std::chrono::milliseconds ceil_millis(double seconds);

}  // namespace pb::connectors::shopify
