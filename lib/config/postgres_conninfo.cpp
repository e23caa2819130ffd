#include "config/postgres_conninfo.hpp"

#include <libpq-fe.h>

#include <memory>
#include <string_view>

namespace pb::config {
namespace {

struct OptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
struct MessageDeleter {
  void operator()(char* message) const { PQfreemem(message); }
};

// libpq's messages end in a newline; ours continue after them.
std::string trimmed(const char* message) {
  std::string out = message != nullptr ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// A string that failed to parse may still hold a password, and libpq's message can quote the
// text around the error: withhold it then, since configuration errors reach the journal.
bool may_hold_password(std::string_view conninfo) {
  return conninfo.find("password") != std::string_view::npos ||
         ((conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://")) &&
          conninfo.find('@') != std::string_view::npos);
}

}  // namespace

std::optional<std::string> conninfo_problem(const std::string& conninfo) {
  char* raw_message = nullptr;
  const std::unique_ptr<PQconninfoOption, OptionsDeleter> options(
      PQconninfoParse(conninfo.c_str(), &raw_message));
  const std::unique_ptr<char, MessageDeleter> message(raw_message);
  if (!options) {
    if (may_hold_password(conninfo))
      return "not a valid libpq connection string (libpq's message is withheld because the "
             "string may hold a password; put the password in password_file)";
    const std::string why = trimmed(message.get());
    return "not a valid libpq connection string" + (why.empty() ? std::string() : ": " + why);
  }
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view keyword = o->keyword;
    if (keyword == "password")
      return "must not hold a password: the connection string appears in logs and beectl "
             "output; put the password in a file and name it in password_file";
    if (keyword == "sslpassword")
      return "must not hold sslpassword: the connection string appears in logs and beectl "
             "output; use a client key without a passphrase, readable only by beed's user";
  }
  return std::nullopt;
}

}  // namespace pb::config
