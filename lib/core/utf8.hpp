// UTF-8 checks for text that came from outside (feed cells, file names, configuration files,
// HTTP bodies): the control protocol and the logs carry JSON, which must be valid UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pb::utf8 {

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF). Allocates nothing; ASCII runs are checked eight bytes at a time.
bool is_valid(std::string_view s) noexcept;

// The length of the longest prefix of `s` that is well-formed UTF-8.
std::size_t valid_prefix(std::string_view s) noexcept;

// `s` with each byte that is not part of a well-formed sequence written as a visible escape,
// "\xC9" (upper-case hex): "CAF\xC9-1" for the Latin-1 "CAFÉ-1". Valid UTF-8, control
// characters included, is left as it is, so escaping valid text changes nothing and escaping
// twice is escaping once.
std::string escape_invalid(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` bytes that does not end inside a well-formed
// multi-byte sequence: cutting a message must not make invalid UTF-8 of valid text.
std::string_view cut(std::string_view s, std::size_t max_bytes) noexcept;

}  // namespace pb::utf8
