#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "control/frame.hpp"

using namespace pb::control;

namespace {

std::string header(std::uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xffu),
          static_cast<char>((n >> 8) & 0xffu), static_cast<char>(n & 0xffu)};
}

std::vector<std::string> drain(FrameDecoder& d) {
  std::vector<std::string> out;
  while (auto p = d.pop()) out.push_back(*p);
  return out;
}

const std::vector<std::string> kPayloads{R"({"v":1,"command":"status"})", "{}",
                                         R"({"sku":"\u00e9t\u00e9","n":[1,2,3]})"};

std::string stream_of(const std::vector<std::string>& payloads) {
  std::string s;
  for (const auto& p : payloads) s += encode_frame(p);
  return s;
}

}  // namespace

TEST_CASE("encode_frame puts a big-endian length before the payload") {
  CHECK(encode_frame("{}") == std::string("\0\0\0\x02{}", 6));
  const std::string big(0x010203, 'x');
  CHECK(encode_frame(big).substr(0, 4) == std::string("\x00\x01\x02\x03", 4));
  CHECK_THROWS_WITH_AS(encode_frame(""), "cannot send an empty frame", ProtocolError);
}

TEST_CASE("frames fed one byte at a time come out whole and in order") {
  const std::string stream = stream_of(kPayloads);
  std::vector<std::size_t> boundaries;  // stream offsets where a frame ends
  std::size_t end = 0;
  for (const auto& p : kPayloads) boundaries.push_back(end += 4 + p.size());
  FrameDecoder d;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    d.feed(stream.substr(i, 1));
    const bool at_boundary =
        std::find(boundaries.begin(), boundaries.end(), i + 1) != boundaries.end();
    CHECK(d.mid_frame() == !at_boundary);
    const std::vector<std::string> popped = drain(d);
    CHECK(popped.size() == (at_boundary ? 1u : 0u));
    out.insert(out.end(), popped.begin(), popped.end());
  }
  CHECK(out == kPayloads);
}

TEST_CASE("frames split at every position, and at every pair of positions, decode the same") {
  const std::string stream = stream_of(kPayloads);
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    FrameDecoder d;
    d.feed(stream.substr(0, i));
    d.feed(stream.substr(i));
    CHECK(drain(d) == kPayloads);
  }
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    for (std::size_t j = i; j <= stream.size(); ++j) {
      FrameDecoder d;
      std::vector<std::string> out;
      for (const auto& chunk : {stream.substr(0, i), stream.substr(i, j - i), stream.substr(j)}) {
        d.feed(chunk);
        for (auto& p : drain(d)) out.push_back(p);
      }
      REQUIRE(out == kPayloads);
    }
  }
}

TEST_CASE("an oversized length is rejected as soon as the header is complete") {
  FrameDecoder d(10);
  const std::string h = header(11);
  d.feed(h.substr(0, 1));
  d.feed(h.substr(1, 1));
  d.feed(h.substr(2, 1));
  CHECK_THROWS_WITH_AS(d.feed(h.substr(3, 1)), "frame of 11 bytes exceeds the limit of 10 bytes",
                       ProtocolError);
  // Out of sync for good: later bytes cannot be trusted to start a frame.
  CHECK_THROWS_WITH_AS(d.feed(encode_frame("{}")),
                       "frame of 11 bytes exceeds the limit of 10 bytes", ProtocolError);
  CHECK_FALSE(d.pop().has_value());
}

TEST_CASE("the largest declared length is rejected without buffering") {
  FrameDecoder d;
  try {
    d.feed(header(0xffffffffu) + "{");
    FAIL("no exception");
  } catch (const ProtocolError& e) {
    CHECK(e.kind() == ProtocolError::Kind::bad_frame);
    CHECK(std::string(e.what()) == "frame of 4294967295 bytes exceeds the limit of 16777216 bytes");
  }
}

TEST_CASE("a zero length is rejected") {
  FrameDecoder d;
  CHECK_THROWS_WITH_AS(d.feed(header(0)), "frame with a zero length", ProtocolError);
}

TEST_CASE("a payload of exactly the limit is accepted") {
  FrameDecoder d(10);
  d.feed(encode_frame("0123456789"));
  CHECK(d.pop() == std::optional<std::string>("0123456789"));
  CHECK_FALSE(d.pop().has_value());
}

TEST_CASE("a frame behind a complete one is checked in the same feed") {
  FrameDecoder d(10);
  CHECK_THROWS_AS(d.feed(encode_frame("{}") + header(100)), ProtocolError);
  // The good frame before the bad header was still delivered.
  CHECK(d.pop() == std::optional<std::string>("{}"));
}
