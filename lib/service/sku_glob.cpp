#include "service/sku_glob.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace pb::service {
namespace {

using Size = std::size_t;

bool in_class(std::string_view name, unsigned char c) {
  if (name == "alpha") return std::isalpha(c) != 0;
  if (name == "digit") return std::isdigit(c) != 0;
  if (name == "alnum") return std::isalnum(c) != 0;
  if (name == "upper") return std::isupper(c) != 0;
  if (name == "lower") return std::islower(c) != 0;
  if (name == "space") return std::isspace(c) != 0;
  if (name == "punct") return std::ispunct(c) != 0;
  if (name == "xdigit") return std::isxdigit(c) != 0;
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return std::iscntrl(c) != 0;
  if (name == "print") return std::isprint(c) != 0;
  if (name == "graph") return std::isgraph(c) != 0;
  return false;
}

// A bracket expression opening at p[at] == '['. Returns {matched, index after `]`}, or
// {false, npos} when it never closes (fnmatch then takes the `[` literally).
std::pair<bool, Size> bracket(std::string_view p, Size at, unsigned char c) {
  Size i = at + 1;
  bool negate = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < p.size()) {
    if (p[i] == ']' && !first) return {matched != negate, i + 1};
    first = false;
    if (p[i] == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      const Size end = p.find(":]", i + 2);
      if (end != std::string_view::npos) {
        matched = matched || in_class(p.substr(i + 2, end - i - 2), c);
        i = end + 2;
        continue;
      }
    }
    unsigned char lo = static_cast<unsigned char>(p[i]);
    if (lo == '\\' && i + 1 < p.size()) lo = static_cast<unsigned char>(p[++i]);
    ++i;
    unsigned char hi = lo;
    if (i + 1 < p.size() && p[i] == '-' && p[i + 1] != ']') {
      hi = static_cast<unsigned char>(p[i + 1]);
      i += 2;
      if (hi == '\\' && i < p.size()) hi = static_cast<unsigned char>(p[i++]);
    }
    if (lo <= c && c <= hi) matched = true;
  }
  return {false, std::string_view::npos};
}

// Whether the one-character item at p[at] (not a `*`) matches c; and where the next item starts.
std::pair<bool, Size> one(std::string_view p, Size at, char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  switch (p[at]) {
    case '?':
      return {true, at + 1};
    case '\\':
      // fnmatch finds no match for a pattern ending in a lone backslash.
      if (at + 1 < p.size()) return {p[at + 1] == c, at + 2};
      return {false, at + 1};
    case '[':
      if (const auto [ok, next] = bracket(p, at, u); next != std::string_view::npos)
        return {ok, next};
      return {c == '[', at + 1};
    default:
      return {p[at] == c, at + 1};
  }
}

}  // namespace

std::string SkuGlob::problem(std::string_view pattern) {
  if (pattern.size() > kMaxBytes)
    return "--sku pattern too long: " + std::to_string(pattern.size()) + " bytes (at most " +
           std::to_string(kMaxBytes) + ")";
  const auto stars = static_cast<Size>(std::count(pattern.begin(), pattern.end(), '*'));
  if (stars > kMaxStars)
    return "--sku pattern has " + std::to_string(stars) + " '*' (at most " +
           std::to_string(kMaxStars) + ")";
  return {};
}

// Every item but `*` matches exactly one character, so the classic greedy walk is exact: on a
// mismatch, the last `*` takes one more character and the rest of the pattern tries again.
// That bounds the work to |pattern| × |sku| steps, where backtracking into every earlier star
// (as glibc's fnmatch does) is exponential in the number of stars.
bool SkuGlob::matches(std::string_view sku) const {
  const std::string_view p = pattern_;
  Size pi = 0, si = 0;
  Size star_p = std::string_view::npos, star_s = 0;
  while (si < sku.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star_p = ++pi;
      star_s = si;
      continue;
    }
    if (pi < p.size()) {
      if (const auto [ok, next] = one(p, pi, sku[si]); ok) {
        pi = next;
        ++si;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace pb::service
