// The `--sku GLOB` filter of `inventory`: fnmatch(3) patterns (`*`, `?`,
// `[...]`, `\` escapes; no flags, byte-wise), matched in time proportional to
// pattern × SKU, and bounded in size, so that no pattern can make a catalogue
// scan expensive (glibc's fnmatch backtracks exponentially on many stars).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pb::service {

class SkuGlob {
 public:
  static constexpr std::size_t kMaxBytes = 256;
  static constexpr std::size_t kMaxStars = 16;

  // Empty when `pattern` is within the bounds; otherwise the message of a bad_request reply.
  static std::string problem(std::string_view pattern);

  explicit SkuGlob(std::string pattern) : pattern_(std::move(pattern)) {}
  bool matches(std::string_view sku) const;

 private:
  std::string pattern_;
};

}  // namespace pb::service
