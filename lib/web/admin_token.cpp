#include "web/admin_token.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <fstream>
#include <stdexcept>

namespace pb::web {

namespace {

std::string sha256(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view kBlanks = " \t\r\n";
  const auto first = s.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kBlanks) - first + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

}  // namespace

AdminToken::AdminToken(std::string_view secret) : secret_(secret), configured_(true) {}

AdminToken AdminToken::from_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read daemon.http.admin_token_file " + path.string());
  std::string line;
  std::getline(in, line);
  const auto secret = trim(line);
  if (secret.size() < kMinTokenBytes)
    throw std::runtime_error(
        "daemon.http.admin_token_file " + path.string() + ": the token " +
        (secret.empty() ? std::string("is empty")
                        : "is shorter than " + std::to_string(kMinTokenBytes) + " characters") +
        " (make one with: openssl rand -hex 32)");
  return AdminToken(secret);
}

std::string_view bearer_token(std::string_view authorization) {
  const auto value = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (value.size() <= kScheme.size() || !iequals(value.substr(0, kScheme.size()), kScheme) ||
      (value[kScheme.size()] != ' ' && value[kScheme.size()] != '\t'))
    return {};
  return trim(value.substr(kScheme.size()));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  const auto da = sha256(a), db = sha256(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

AdminToken::Verdict AdminToken::check(std::string_view authorization) const {
  if (!configured_) return Verdict::read_only;
  const auto token = bearer_token(authorization);
  if (token.empty()) return Verdict::missing;
  return constant_time_equal(token, secret_) ? Verdict::granted : Verdict::wrong;
}

}  // namespace pb::web
