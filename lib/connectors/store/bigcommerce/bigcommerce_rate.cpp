#include "connectors/store/bigcommerce/bigcommerce_rate.hpp"

#include <charconv>
#include <string>
#include <string_view>

namespace pb::connectors::bigcommerce {
namespace {

std::optional<std::int64_t> header_number(const net::Response& response, std::string_view name) {
  const std::string* text = response.header(name);
  if (text == nullptr) return std::nullopt;
  std::string_view value = *text;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  std::int64_t number = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, number);
  if (value.empty() || ec != std::errc() || ptr != end || number < 0) return std::nullopt;
  return number;
}

std::optional<std::chrono::milliseconds> header_millis(const net::Response& response,
                                                       std::string_view name) {
  const auto number = header_number(response, name);
  if (!number) return std::nullopt;
  return std::chrono::milliseconds(*number);
}

}  // namespace

RateStatus read_rate_status(const net::Response& response) {
  RateStatus status;
  status.requests_left = header_number(response, "X-Rate-Limit-Requests-Left");
  status.requests_quota = header_number(response, "X-Rate-Limit-Requests-Quota");
  status.reset_in = header_millis(response, "X-Rate-Limit-Time-Reset-Ms");
  status.window = header_millis(response, "X-Rate-Limit-Time-Window-Ms");
  return status;
}

void RatePacer::observe(const RateStatus& status, Clock::time_point at) {
  if (!status.requests_left) return;
  if (*status.requests_left > 0 || !status.reset_in) {
    blocked_until_.reset();
    return;
  }
  blocked_until_ = at + *status.reset_in;
}

std::chrono::milliseconds RatePacer::delay_before(Clock::time_point now) const {
  if (!blocked_until_ || *blocked_until_ <= now) return std::chrono::milliseconds(0);
  // Rounded up: waking a microsecond early would spend a request on a 429.
  return std::chrono::ceil<std::chrono::milliseconds>(*blocked_until_ - now);
}

}  // namespace pb::connectors::bigcommerce
