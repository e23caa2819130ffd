// Wire framing of the control protocol: a 4-byte big-endian payload length
// followed by that many bytes of UTF-8 JSON (docs/CONTROL-PROTOCOL.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pb::control {

inline constexpr std::size_t kFrameHeaderBytes = 4;
// systemd's varlink uses the same cap; a control message is a few KiB at most,
// so anything near it is a broken or hostile peer.
inline constexpr std::size_t kDefaultMaxPayloadBytes = std::size_t{16} << 20;

// The peer broke the protocol. what() is written to be sent back to the peer
// (in a bad_request reply) or shown by beectl.
class ProtocolError : public std::runtime_error {
 public:
  enum class Kind {
    bad_frame,            // zero or oversized length
    bad_json,             // payload is not a JSON object
    bad_message,          // JSON object with missing or wrong-typed members
    unsupported_version,  // "v" names a protocol version we do not speak
  };
  ProtocolError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

// Reassembles frames from a byte stream cut at arbitrary places. A bad length
// is reported as soon as its 4 header bytes arrive, so a peer cannot make us
// buffer a body we will reject anyway.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_payload = kDefaultMaxPayloadBytes);

  // Throws ProtocolError(bad_frame) on a zero or oversized length; after that
  // the stream is out of sync and every later feed() throws again.
  void feed(std::string_view bytes);
  // The next complete payload, oldest first.
  std::optional<std::string> pop();

  // True while part of a frame (header or body) has arrived but not all of it.
  bool mid_frame() const noexcept { return header_filled_ > 0; }
  std::size_t max_payload() const noexcept { return max_; }

 private:
  std::size_t max_;
  unsigned char header_[kFrameHeaderBytes] = {};
  std::size_t header_filled_ = 0;
  std::size_t body_expected_ = 0;  // valid once the header is complete
  std::string body_;
  std::deque<std::string> ready_;
  std::optional<std::string> failure_;
};

// Header + payload. Throws ProtocolError(bad_frame) for an empty payload or one
// whose length does not fit the 32-bit header.
std::string encode_frame(std::string_view json);

}  // namespace pb::control
