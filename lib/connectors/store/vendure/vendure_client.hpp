// One Vendure Admin API exchange at a time, with what every call needs besides its document:
// the credentials (a bearer session from the login mutation, or an API key), the channel
// header, retries of transport failures, 429 and 5xx, and a single fresh login when Vendure
// no longer knows the session.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "connectors/store/store.hpp"
#include "net/http_session.hpp"
#include "net/retry.hpp"

namespace pb::connectors::vendure {

// Read from the secret files at each run; kept out of every message and log line.
struct Credentials {
  std::string username;
  std::string password;  // with username: the login mutation
  std::string api_key;   // or this, in the vendure-api-key header
  // Only named in messages, so that the operator knows which file to fix.
  std::filesystem::path password_file;
  std::filesystem::path api_key_file;

  bool operator==(const Credentials&) const = default;
};

// Vendure refused the credentials (a wrong password, a refused key or session): Retry::no,
// as every other call would be refused the same way.
class CredentialsRefused : public StoreError {
 public:
  explicit CredentialsRefused(const std::string& message) : StoreError(message, Retry::no) {}
};

// What the calls cost; for logs, the bench and tests.
struct ClientStats {
  std::size_t calls = 0;   // answers read (retries inside net:: not counted)
  std::size_t logins = 0;  // login mutations sent
};

class Client {
 public:
  // `target`: the Admin API's path on the session's origin ("/admin-api"); `channel_token`
  // empty: the default channel.
  Client(std::shared_ptr<net::HttpSession> session, std::string target, std::string channel_token,
         net::RetryOptions retry);

  // Replaces the credentials; a different user or password drops the session.
  void set_credentials(Credentials credentials);

  // Sends `body` and returns Vendure's answer, which may still carry errors other than
  // FORBIDDEN (the caller classifies them). Logs in first when there is no session, and once
  // more when Vendure answers FORBIDDEN to an older session. Throws CredentialsRefused, and
  // StoreError(Retry::no) when retries ran out or the answer is not GraphQL. `what` names
  // the call in messages.
  // `what` is a view, not a std::string: g++ 12 may free a temporary std::string argument
  // of a coroutine twice.
  boost::asio::awaitable<boost::json::value> call(const std::string& body, std::string_view what);

  // `text` with the password, API key and session token blanked out: for anything Vendure
  // says that ends up in a message.
  std::string redact(std::string text) const;

  const ClientStats& stats() const { return stats_; }

 private:
  bool uses_api_key() const { return !credentials_.api_key.empty(); }
  boost::asio::awaitable<void> login();
  boost::asio::awaitable<boost::json::value> exchange(const std::string& body,
                                                      std::string_view what, bool authorised);
  [[noreturn]] void refuse(const std::string& code, const std::string& message,
                           bool fresh_session) const;

  std::shared_ptr<net::HttpSession> session_;
  std::string target_;
  std::string channel_token_;
  net::RetryOptions retry_;
  Credentials credentials_;
  std::string token_;  // the bearer session; empty: log in before the next call
  ClientStats stats_;
};

}  // namespace pb::connectors::vendure
