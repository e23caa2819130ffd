// The UTF-8 check and escaper that keep foreign bytes out of JSON messages, checked against
// Boost.JSON's own parser (what beectl runs a reply through), and the SKU limits.
#include "core/utf8.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "core/sku.hpp"
#include "core/types.hpp"

using namespace pb;

namespace {

// Whether Boost.JSON accepts `s` as the text of a JSON string.
bool json_accepts(std::string_view s) {
  boost::system::error_code ec;
  boost::json::parse(boost::json::serialize(boost::json::string(s)), ec);
  return !ec;
}

}  // namespace

TEST_CASE("utf8::is_valid accepts well-formed UTF-8 and nothing else") {
  CHECK(utf8::is_valid(""));
  CHECK(utf8::is_valid("plain ASCII, longer than a word of eight bytes"));
  CHECK(utf8::is_valid("CAF\xC3\x89-1"));              // É
  CHECK(utf8::is_valid("\xE2\x82\xAC 12"));            // €
  CHECK(utf8::is_valid("\xF0\x9F\x90\x9D bee"));       // U+1F41D
  CHECK(utf8::is_valid("\xF4\x8F\xBF\xBF"));           // U+10FFFF
  CHECK(utf8::is_valid(std::string_view("a\0b", 3)));  // NUL is a character

  CHECK_FALSE(utf8::is_valid("CAF\xC9-1"));         // Latin-1 É
  CHECK_FALSE(utf8::is_valid("\xC3"));              // cut short
  CHECK_FALSE(utf8::is_valid("12345678\xE2\x82"));  // cut short after an ASCII word
  CHECK_FALSE(utf8::is_valid("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(utf8::is_valid("\xE0\x80\xAF"));      // overlong
  CHECK_FALSE(utf8::is_valid("\xED\xA0\x80"));      // a surrogate
  CHECK_FALSE(utf8::is_valid("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(utf8::is_valid("\x80"));              // a lone continuation byte
  CHECK_FALSE(utf8::is_valid("\xFF\xFE"));
}

TEST_CASE("utf8::is_valid agrees with Boost.JSON on every two-byte string and some longer") {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char bytes[2] = {static_cast<char>(a), static_cast<char>(b)};
      const std::string_view s(bytes, 2);
      if (utf8::is_valid(s) != json_accepts(s)) FAIL_CHECK("disagree on " << a << " " << b);
    }
  }
  for (std::string_view s : {"\xE0\xA0\x80", "\xE0\x9F\xBF", "\xED\x9F\xBF", "\xED\xA0\x80",
                             "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF0\x8F\xBF\xBF",
                             "\xF4\x8F\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80"}) {
    CAPTURE(s);
    CHECK(utf8::is_valid(s) == json_accepts(s));
  }
}

TEST_CASE("utf8::escape_invalid writes each stray byte as \\xHH and leaves the rest") {
  CHECK(utf8::escape_invalid("CAF\xC9-1") == "CAF\\xC9-1");
  CHECK(utf8::escape_invalid("CAF\xC3\x89-1") == "CAF\xC3\x89-1");
  CHECK(utf8::escape_invalid("tab\there") == "tab\there");
  CHECK(utf8::escape_invalid("\xFF\xFE"
                             "a\xC3") == "\\xFF\\xFEa\\xC3");
  CHECK(utf8::escape_invalid("\xE2\x82") == "\\xE2\\x82");  // a cut sequence: both bytes
  CHECK(utf8::escape_invalid("\xED\xA0\x80") == "\\xED\\xA0\\x80");
  const std::string binary("\x89PNG\r\n\x1A\n\0\0\0\rIHDR\xFF", 17);
  const std::string escaped = utf8::escape_invalid(binary);
  CHECK(utf8::is_valid(escaped));
  CHECK(json_accepts(escaped));
  CHECK(utf8::escape_invalid(escaped) == escaped);  // escaping twice is escaping once
}

TEST_CASE("utf8::cut never splits a character") {
  CHECK(utf8::cut("abcdef", 10) == "abcdef");
  CHECK(utf8::cut("abcdef", 3) == "abc");
  CHECK(utf8::cut("ab\xE2\x82\xAC", 4) == "ab");  // € would be cut after two of its bytes
  CHECK(utf8::cut("ab\xE2\x82\xAC", 3) == "ab");
  CHECK(utf8::cut("ab\xE2\x82\xAC"
                  "c",
                  5) == "ab\xE2\x82\xAC");
  CHECK(utf8::cut("ab\xC9\xC9\xC9", 3) == "ab\xC9");  // not UTF-8 anyway: cut at the limit
}

TEST_CASE("a SKU is kept when it is at most 255 bytes of UTF-8") {
  CHECK_FALSE(sku_problem("A-1").has_value());
  CHECK_FALSE(sku_problem(std::string(kMaxSkuBytes, 'x')).has_value());
  CHECK(sku_problem(std::string(kMaxSkuBytes + 1, 'x')) == "is longer than 255 bytes (256)");
  CHECK(sku_problem("CAF\xC9-1") == "is not valid UTF-8");
  // The longest state key, CONNECTION\0SKU, fits LMDB's default 511-byte limit.
  CHECK(kMaxConnectionNameBytes + 1 + kMaxSkuBytes <= 511);
  CHECK(is_valid_connection_name(std::string(kMaxConnectionNameBytes, 'c')));
  CHECK_FALSE(is_valid_connection_name(std::string(kMaxConnectionNameBytes + 1, 'c')));
}
