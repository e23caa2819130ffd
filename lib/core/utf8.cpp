#include "core/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace pb::utf8 {
namespace {

// The length of the well-formed sequence at s[i] (1 to 4), or 0 when the byte there starts
// none. The ranges are those of RFC 3629's table (section 4).
std::size_t sequence_at(const unsigned char* s, std::size_t i, std::size_t n) noexcept {
  const unsigned char b = s[i];
  if (b < 0x80) return 1;
  const auto continuation = [&](std::size_t k, unsigned char lo, unsigned char hi) {
    return i + k < n && s[i + k] >= lo && s[i + k] <= hi;
  };
  if (b >= 0xC2 && b <= 0xDF) return continuation(1, 0x80, 0xBF) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    const unsigned char lo = b == 0xE0 ? 0xA0 : 0x80;  // E0: no overlong forms
    const unsigned char hi = b == 0xED ? 0x9F : 0xBF;  // ED: no surrogates
    return continuation(1, lo, hi) && continuation(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const unsigned char lo = b == 0xF0 ? 0x90 : 0x80;  // F0: no overlong forms
    const unsigned char hi = b == 0xF4 ? 0x8F : 0xBF;  // F4: nothing above U+10FFFF
    return continuation(1, lo, hi) && continuation(2, 0x80, 0xBF) && continuation(3, 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

}  // namespace

std::size_t valid_prefix(std::string_view text) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // Most text is ASCII: skip it a word at a time.
    if (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, s + i, 8);
      if ((word & 0x8080808080808080u) == 0) {
        i += 8;
        continue;
      }
    }
    const std::size_t len = sequence_at(s, i, n);
    if (len == 0) return i;
    i += len;
  }
  return n;
}

bool is_valid(std::string_view s) noexcept {
  return valid_prefix(s) == s.size();
}

std::string escape_invalid(std::string_view text) {
  std::size_t good = valid_prefix(text);
  if (good == text.size()) return std::string(text);
  constexpr char kHex[] = "0123456789ABCDEF";
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::string out;
  out.reserve(text.size() + 16);
  std::size_t i = 0;
  while (i < text.size()) {
    out.append(text.data() + i, good);
    i += good;
    if (i == text.size()) break;
    const unsigned char b = s[i++];
    out += "\\x";
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
    good = valid_prefix(text.substr(i));
  }
  return out;
}

std::string_view cut(std::string_view s, std::size_t max_bytes) noexcept {
  if (s.size() <= max_bytes) return s;
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  // Step back over at most three continuation bytes to the start of the sequence the cut falls
  // in; keep the bytes before it, unless the sequence there is not a valid one (then the cut
  // splits nothing that could be shown as a character).
  std::size_t start = max_bytes;
  while (start > 0 && max_bytes - start < 3 && (b[start] & 0xC0) == 0x80) --start;
  const std::size_t len = sequence_at(b, start, s.size());
  if (len > 1 && start + len > max_bytes) return s.substr(0, start);
  return s.substr(0, max_bytes);
}

}  // namespace pb::utf8
