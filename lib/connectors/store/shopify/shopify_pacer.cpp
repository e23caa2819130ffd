#include "connectors/store/shopify/shopify_pacer.hpp"

#include <algorithm>
#include <cmath>

namespace pb::connectors::shopify {

std::chrono::milliseconds ceil_millis(double seconds) {
  if (!(seconds > 0)) return std::chrono::milliseconds(0);
  // Round up on a millisecond grid, but forgive floating-point noise (0.1 * 1000
  // is 100.00000000000001), so an exact deficit is not paid a millisecond extra.
  const double ms = seconds * 1000.0;
  const double floored = std::floor(ms);
  const double whole = ms - floored < 1e-6 ? floored : std::ceil(ms);
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(whole));
}

void CostPacer::observe(const QueryCost& cost, CallKind kind, Clock::time_point at) {
  if (cost.throttle) {
    status_ = cost.throttle;
    seen_at_ = at;
  }
  // A throttled or refused call reports what it would have cost: that is the
  // need of its kind too.
  if (cost.requested > 0) expected_[static_cast<std::size_t>(kind)] = cost.requested;
}

std::optional<double> CostPacer::available_at(Clock::time_point now) const {
  if (!status_) return std::nullopt;
  const double elapsed = std::chrono::duration<double>(now - seen_at_).count();
  const double refilled =
      status_->currently_available + status_->restore_rate * std::max(0.0, elapsed);
  return std::min(status_->maximum_available, refilled);
}

std::chrono::milliseconds CostPacer::delay_before(CallKind kind, Clock::time_point now) const {
  const double need = expected_cost(kind);
  const auto available = available_at(now);
  if (!available || need <= 0 || status_->restore_rate <= 0) return std::chrono::milliseconds(0);
  // A bucket smaller than the need can never hold it: wait for a full bucket
  // and let Shopify decide (it answers MAX_COST_EXCEEDED or THROTTLED).
  const double target = std::min(need, status_->maximum_available);
  return ceil_millis((target - *available) / status_->restore_rate);
}

std::chrono::milliseconds CostPacer::throttled_delay(const QueryCost& cost) {
  if (!cost.throttle || cost.throttle->restore_rate <= 0) return std::chrono::milliseconds(1000);
  const auto& s = cost.throttle;
  const double need = std::min(cost.requested, s->maximum_available);
  return std::max(std::chrono::milliseconds(1),
                  ceil_millis((need - s->currently_available) / s->restore_rate));
}

}  // namespace pb::connectors::shopify
