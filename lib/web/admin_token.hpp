// daemon.http.admin_token_file: the secret that lets a web client start a sync. Read once at
// start; compared in constant time (over SHA-256 digests, so not even the length leaks).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace pb::web {

// Shorter tokens are refused at start: a web listener's token must resist guessing.
inline constexpr std::size_t kMinTokenBytes = 16;

class AdminToken {
 public:
  enum class Verdict {
    granted,
    read_only,  // no token configured: nothing may change state over HTTP (403)
    missing,    // no "Authorization: Bearer ..." header (401)
    wrong,      // a bearer token that is not the configured one (401)
  };

  AdminToken() = default;  // read-only
  explicit AdminToken(std::string_view secret);
  // The file's first line, trimmed of surrounding blanks. Throws std::runtime_error naming
  // the file (never its content) when it cannot be read, is empty or too short.
  static AdminToken from_file(const std::filesystem::path& path);

  bool configured() const { return configured_; }
  // `authorization`: the request's Authorization header, empty when it had none.
  Verdict check(std::string_view authorization) const;

 private:
  std::string secret_;
  bool configured_ = false;
};

// The token of an "Authorization: Bearer TOKEN" header (the scheme is case-insensitive,
// RFC 7235), or empty when the header is not a bearer credential.
std::string_view bearer_token(std::string_view authorization);

// a == b, in a time that depends on neither's content nor length.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace pb::web
