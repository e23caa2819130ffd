#include "control/frame.hpp"

#include <algorithm>
#include <limits>

namespace pb::control {

FrameDecoder::FrameDecoder(std::size_t max_payload) : max_(max_payload) {}

void FrameDecoder::feed(std::string_view bytes) {
  if (failure_) throw ProtocolError(ProtocolError::Kind::bad_frame, *failure_);
  while (!bytes.empty()) {
    if (header_filled_ < kFrameHeaderBytes) {
      const std::size_t n = std::min(kFrameHeaderBytes - header_filled_, bytes.size());
      std::copy_n(bytes.begin(), n, header_ + header_filled_);
      header_filled_ += n;
      bytes.remove_prefix(n);
      if (header_filled_ < kFrameHeaderBytes) return;
      const std::uint32_t length = (std::uint32_t{header_[0]} << 24) |
                                   (std::uint32_t{header_[1]} << 16) |
                                   (std::uint32_t{header_[2]} << 8) | std::uint32_t{header_[3]};
      if (length == 0) {
        failure_ = "frame with a zero length";
      } else if (length > max_) {
        failure_ = "frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                   std::to_string(max_) + " bytes";
      }
      if (failure_) throw ProtocolError(ProtocolError::Kind::bad_frame, *failure_);
      body_expected_ = length;
      body_.clear();
      // Reserve only what has arrived plus a little: the length is the peer's
      // claim, not a promise.
      body_.reserve(std::min(body_expected_, bytes.size() + 4096));
    }
    const std::size_t n = std::min(body_expected_ - body_.size(), bytes.size());
    body_.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (body_.size() == body_expected_) {
      ready_.push_back(std::move(body_));
      body_ = std::string();
      header_filled_ = 0;
      body_expected_ = 0;
    }
  }
}

std::optional<std::string> FrameDecoder::pop() {
  if (ready_.empty()) return std::nullopt;
  std::string payload = std::move(ready_.front());
  ready_.pop_front();
  return payload;
}

std::string encode_frame(std::string_view json) {
  if (json.empty())
    throw ProtocolError(ProtocolError::Kind::bad_frame, "cannot send an empty frame");
  if (json.size() > std::numeric_limits<std::uint32_t>::max())
    throw ProtocolError(ProtocolError::Kind::bad_frame, "message too large for a frame");
  const auto length = static_cast<std::uint32_t>(json.size());
  std::string frame;
  frame.reserve(kFrameHeaderBytes + json.size());
  frame.push_back(static_cast<char>((length >> 24) & 0xffu));
  frame.push_back(static_cast<char>((length >> 16) & 0xffu));
  frame.push_back(static_cast<char>((length >> 8) & 0xffu));
  frame.push_back(static_cast<char>(length & 0xffu));
  frame.append(json);
  return frame;
}

}  // namespace pb::control
