// libFuzzer target for the control channel: FrameDecoder fed a byte stream cut
// at points taken from the input, then every payload through the request (and
// reply) JSON parsers. Checks that the cuts change nothing, and that a decoded
// request re-encoded and decoded again is the same request. Only ProtocolError
// is an expected failure.
//
// Input: byte 0: bits 0-2 how many cut sizes follow (0: one feed() of
// everything), bit 3 a 64-byte payload limit instead of the default; then the
// cut sizes (1 + byte), used in turn until the stream is used up; then the
// stream itself.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/serialize.hpp>

#include "control/frame.hpp"
#include "control/message.hpp"

namespace {

using pb::control::FrameDecoder;
using pb::control::ProtocolError;

struct Decoded {
  std::vector<std::string> payloads;
  bool failed = false;
  bool mid_frame = false;
};

void drain(FrameDecoder& decoder, Decoded& out) {
  while (std::optional<std::string> payload = decoder.pop()) {
    if (payload->empty() || payload->size() > decoder.max_payload()) __builtin_trap();
    out.payloads.push_back(std::move(*payload));
  }
}

Decoded decode(std::string_view stream, const std::vector<std::size_t>& cuts,
               std::size_t max_payload) {
  FrameDecoder decoder(max_payload);
  Decoded out;
  std::size_t next_cut = 0;
  try {
    while (!stream.empty()) {
      const std::size_t n = cuts.empty() ? stream.size() : cuts[next_cut++ % cuts.size()];
      decoder.feed(stream.substr(0, n));
      stream.remove_prefix(std::min(n, stream.size()));
      drain(decoder, out);
    }
  } catch (const ProtocolError& e) {
    if (e.kind() != ProtocolError::Kind::bad_frame) __builtin_trap();
    out.failed = true;
    drain(decoder, out);  // frames completed before the bad header still count
    // Once out of sync, the decoder must keep refusing.
    bool refused = false;
    try {
      decoder.feed(std::string_view("\0\0\0\1x", 5));
    } catch (const ProtocolError&) {
      refused = true;
    }
    if (!refused) __builtin_trap();
  }
  out.mid_frame = decoder.mid_frame();
  return out;
}

bool same(const pb::control::Request& a, const pb::control::Request& b) {
  return a.version == b.version && a.command == b.command && a.args == b.args;
}

// Re-encoding must give a frame that decodes to the same request. Nothing is
// caught here: any exception is a bug.
void round_trip(const pb::control::Request& request) {
  const std::string frame =
      pb::control::encode_frame(boost::json::serialize(pb::control::to_json(request)));
  FrameDecoder decoder;
  decoder.feed(frame);
  std::optional<std::string> payload = decoder.pop();
  if (!payload || decoder.pop() || decoder.mid_frame()) __builtin_trap();
  if (!same(request, pb::control::parse_request(*payload))) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t cut_count = data[0] & 7u;
  const std::size_t max_payload = (data[0] & 8u) != 0 ? 64 : pb::control::kDefaultMaxPayloadBytes;
  if (size < 1 + cut_count) return 0;
  std::vector<std::size_t> cuts;
  for (std::size_t i = 0; i < cut_count; ++i) cuts.push_back(std::size_t{data[1 + i]} + 1);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1 + cut_count,
                                size - 1 - cut_count);

  const Decoded cut = decode(stream, cuts, max_payload);
  const Decoded whole = decode(stream, {}, max_payload);
  if (cut.payloads != whole.payloads || cut.failed != whole.failed ||
      cut.mid_frame != whole.mid_frame)
    __builtin_trap();

  for (const std::string& payload : cut.payloads) {
    std::optional<pb::control::Request> request;
    try {
      request = pb::control::parse_request(payload);
    } catch (const ProtocolError&) {
    }
    if (request) round_trip(*request);  // outside the try: a ProtocolError there is a bug
    // beectl parses what beed sends back with the same kind of code.
    try {
      (void)pb::control::parse_server_message(payload);
    } catch (const ProtocolError&) {
    }
  }
  return 0;
}
