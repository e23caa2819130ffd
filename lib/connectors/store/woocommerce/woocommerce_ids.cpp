#include "connectors/store/woocommerce/woocommerce_ids.hpp"

#include <algorithm>
#include <charconv>

namespace pb::connectors {
namespace {

std::optional<std::uint64_t> parse_id(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value == 0) return std::nullopt;
  return value;
}

}  // namespace

std::string encode_targets(const std::vector<WooTarget>& targets) {
  std::string out;
  for (const auto& t : targets) {
    if (!out.empty()) out += ',';
    if (t.variation()) out += std::to_string(t.parent) + '/';
    out += std::to_string(t.id);
  }
  return out;
}

std::optional<std::vector<WooTarget>> decode_targets(std::string_view text) {
  std::vector<WooTarget> targets;
  for (bool more = !text.empty(); more;) {
    const auto comma = text.find(',');
    const auto one = text.substr(0, comma);
    more = comma != std::string_view::npos;
    text = more ? text.substr(comma + 1) : std::string_view{};
    WooTarget target;
    if (const auto slash = one.find('/'); slash != std::string_view::npos) {
      const auto parent = parse_id(one.substr(0, slash));
      const auto id = parse_id(one.substr(slash + 1));
      if (!parent || !id) return std::nullopt;
      target = {*parent, *id};
    } else {
      const auto id = parse_id(one);
      if (!id) return std::nullopt;
      target = {0, *id};
    }
    targets.push_back(target);
  }
  if (targets.empty()) return std::nullopt;
  return targets;
}

void add_target(std::vector<WooTarget>& targets, WooTarget target) {
  if (std::find(targets.begin(), targets.end(), target) == targets.end()) targets.push_back(target);
}

}  // namespace pb::connectors
