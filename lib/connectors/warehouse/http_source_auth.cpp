#include "connectors/warehouse/http_source_auth.hpp"

#include <stdexcept>
#include <utility>

#include "connectors/secret_file.hpp"
#include "connectors/warehouse/feed.hpp"
#include "net/basic_auth.hpp"

namespace pb::connectors {

HttpSourceCredentials HttpSourceCredentials::load(const config::HttpAuthConfig& auth,
                                                  std::string_view origin) {
  HttpSourceCredentials out;
  try {
    if (!auth.bearer_token_file.empty()) {
      std::string token = read_secret_file(auth.bearer_token_file, "bearer_token_file");
      out.authorization_ = "Bearer " + token;
      out.secrets_.push_back(std::move(token));
    } else if (!auth.password_file.empty()) {
      std::string password = read_secret_file(auth.password_file, "password_file");
      out.authorization_ = net::basic_authorization(auth.username, password);
      out.secrets_.push_back(std::move(password));
      out.secrets_.push_back(out.authorization_.substr(6));  // after "Basic "
    }
  } catch (const std::runtime_error& e) {
    throw WarehouseError(std::string(origin) + ": " + e.what());
  }
  return out;
}

void HttpSourceCredentials::apply(net::Request& request) const {
  if (!authorization_.empty()) request.headers.push_back({"Authorization", authorization_});
}

std::string HttpSourceCredentials::redact(std::string text) const {
  // A very short secret would blank out ordinary words; such a secret protects little anyway.
  constexpr std::size_t kShortest = 4;
  constexpr std::string_view kBlank = "[redacted]";
  for (const auto& secret : secrets_) {
    if (secret.size() < kShortest) continue;
    for (auto at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + kBlank.size()))
      text.replace(at, secret.size(), kBlank);
  }
  return text;
}

}  // namespace pb::connectors
