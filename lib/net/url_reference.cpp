#include "net/url_reference.hpp"

#include <cctype>
#include <stdexcept>

namespace pb::net {
namespace {

struct Parts {
  std::string_view path;
  std::string_view query;
  bool has_query = false;
};

Parts split_query(std::string_view text) {
  const auto q = text.find('?');
  if (q == std::string_view::npos) return {text, {}, false};
  return {text.substr(0, q), text.substr(q + 1), true};
}

// RFC 3986 section 5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      const auto slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      const auto next = in.find('/', in.front() == '/' ? 1 : 0);
      const auto segment = in.substr(0, next);
      out += segment;
      in.remove_prefix(segment.size());
    }
  }
  return out;
}

// RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
std::size_t scheme_length(std::string_view reference) {
  if (reference.empty() || !std::isalpha(static_cast<unsigned char>(reference.front()))) return 0;
  for (std::size_t i = 1; i < reference.size(); ++i) {
    const auto c = static_cast<unsigned char>(reference[i]);
    if (c == ':') return i;
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

}  // namespace

ResolvedReference resolve_reference(const Url& base, std::string_view base_target,
                                    std::string_view reference) {
  for (const char c : reference)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw std::invalid_argument("space or control character in the URL");
  if (const auto hash = reference.find('#'); hash != std::string_view::npos)
    reference = reference.substr(0, hash);

  ResolvedReference out;
  std::string_view scheme = base.scheme;
  std::string_view rest = reference;
  if (const auto length = scheme_length(reference); length > 0) {
    scheme = reference.substr(0, length);
    rest = reference.substr(length + 1);
    if (!rest.starts_with("//")) throw std::invalid_argument("not an http(s) URL with a host");
  }
  std::string path;
  Parts parts;
  if (rest.starts_with("//")) {
    const auto authority_end = rest.find_first_of("/?", 2);
    const auto authority = rest.substr(2, authority_end - 2);
    out.origin = Url::parse(std::string(scheme) + "://" + std::string(authority));
    parts = split_query(authority_end == std::string_view::npos ? std::string_view{}
                                                                : rest.substr(authority_end));
    path = remove_dot_segments(parts.path);
  } else {
    out.origin = base;
    out.origin.path.clear();
    out.origin.query.clear();
    const Parts from = split_query(base_target);
    parts = split_query(rest);
    if (parts.path.empty()) {
      path = std::string(from.path);
      if (!parts.has_query) parts = from;  // an empty reference is the base itself
    } else if (parts.path.front() == '/') {
      path = remove_dot_segments(parts.path);
    } else {
      // Merge: the base path up to its last '/', then the reference.
      const auto slash = from.path.rfind('/');
      std::string merged(slash == std::string_view::npos ? std::string_view("/")
                                                         : from.path.substr(0, slash + 1));
      merged += parts.path;
      path = remove_dot_segments(merged);
    }
  }
  out.target = path.empty() ? "/" : std::move(path);
  if (parts.has_query) {
    out.target += '?';
    out.target += parts.query;
  }
  return out;
}

bool same_origin(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

}  // namespace pb::net
