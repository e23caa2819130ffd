#include "control/message.hpp"

#include <array>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "control/frame.hpp"
#include "core/utf8.hpp"

namespace pb::control {
namespace {

namespace json = boost::json;

constexpr std::array<std::pair<Status, std::string_view>, 10> kStatusNames{{
    {Status::ok, "ok"},
    {Status::bad_request, "bad_request"},
    {Status::unknown_command, "unknown_command"},
    {Status::unknown_connection, "unknown_connection"},
    {Status::permission_denied, "permission_denied"},
    {Status::refused, "refused"},
    {Status::internal, "internal"},
    {Status::invalid_config, "invalid_config"},
    {Status::shutting_down, "shutting_down"},
    {Status::busy, "busy"},
}};

[[noreturn]] void bad_message(const std::string& what) {
  throw ProtocolError(ProtocolError::Kind::bad_message, what);
}

const json::object& as_message_object(const json::value& v, std::string_view what) {
  if (!v.is_object())
    throw ProtocolError(ProtocolError::Kind::bad_json,
                        std::string(what) + " must be a JSON object");
  return v.get_object();
}

// Both directions carry "v"; refusing an unknown one up front keeps a newer
// peer from being misread as a broken one.
int check_version(const json::object& o) {
  const std::string supported = "(supported: " + std::to_string(kProtocolVersion) + ")";
  const json::value* v = o.if_contains("v");
  if (v == nullptr) bad_message("missing protocol version \"v\" " + supported);
  if (v->is_int64() && v->get_int64() == kProtocolVersion) return kProtocolVersion;
  if (v->is_int64() || v->is_uint64())
    throw ProtocolError(ProtocolError::Kind::unsupported_version,
                        "unsupported protocol version " + json::serialize(*v) + " " + supported);
  bad_message("protocol version \"v\" must be an integer " + supported);
}

json::value parse_json(std::string_view payload) {
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec);
  if (ec) throw ProtocolError(ProtocolError::Kind::bad_json, "malformed JSON: " + ec.message());
  return v;
}

bool is_valid_utf8(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return utf8::is_valid(v.get_string());
    case json::kind::array:
      for (const auto& item : v.get_array())
        if (!is_valid_utf8(item)) return false;
      return true;
    case json::kind::object:
      for (const auto& [key, item] : v.get_object())
        if (!utf8::is_valid(key) || !is_valid_utf8(item)) return false;
      return true;
    default:
      return true;
  }
}

void escape_invalid_utf8(json::value& v) {
  if (auto* s = v.if_string()) {
    if (!utf8::is_valid(*s)) *s = utf8::escape_invalid(*s);
  } else if (auto* a = v.if_array()) {
    for (auto& item : *a) escape_invalid_utf8(item);
  } else if (auto* o = v.if_object()) {
    json::object escaped;
    escaped.reserve(o->size());
    for (auto& [key, item] : *o) {
      escape_invalid_utf8(item);
      escaped[utf8::escape_invalid(key)] = std::move(item);
    }
    *o = std::move(escaped);
  }
}

// The last line of defence for what beed sends: JSON must be UTF-8, and a peer refuses a
// message that is not, so one stray byte (a Latin-1 SKU stored by an older version, a file
// name) would make a reply unreadable for good. Texts quoting foreign bytes are escaped where
// they are built; this makes sure. The check costs less than the copy of the data made just
// before; the rebuild, when something slipped through, is rare.
json::object valid_utf8(json::object o) {
  json::value v(std::move(o));
  if (!is_valid_utf8(v)) escape_invalid_utf8(v);
  return std::move(v.get_object());
}

}  // namespace

std::string_view to_string(Status s) {
  for (const auto& [status, name] : kStatusNames)
    if (status == s) return name;
  return "unknown";
}

std::optional<Status> parse_status(std::string_view name) {
  for (const auto& [status, n] : kStatusNames)
    if (n == name) return status;
  return std::nullopt;
}

json::object to_json(const Request& r) {
  json::object o;
  o["v"] = r.version;
  o["command"] = r.command;
  o["args"] = r.args;
  return o;
}

json::object to_json(const Reply& r) {
  json::object o;
  o["v"] = kProtocolVersion;
  o["status"] = to_string(r.status);
  o["code"] = static_cast<int>(r.status);
  if (!r.error.empty()) o["error"] = r.error;
  if (!r.data.is_null()) o["data"] = r.data;
  return valid_utf8(std::move(o));
}

json::object to_json(const Event& e) {
  json::object o;
  o["v"] = kProtocolVersion;
  o["event"] = e.name;
  o["data"] = e.data;
  return valid_utf8(std::move(o));
}

Request request_from_json(const json::value& v) {
  const json::object& o = as_message_object(v, "a request");
  Request r;
  r.version = check_version(o);
  const json::value* command = o.if_contains("command");
  if (command == nullptr) bad_message("missing \"command\"");
  if (!command->is_string()) bad_message("\"command\" must be a string");
  if (command->get_string().empty()) bad_message("\"command\" must not be empty");
  r.command = command->get_string();
  if (const json::value* args = o.if_contains("args")) {
    if (!args->is_object()) bad_message("\"args\" must be an object");
    r.args = args->get_object();
  }
  return r;
}

Request parse_request(std::string_view payload) {
  return request_from_json(parse_json(payload));
}

ServerMessage server_message_from_json(const json::value& v) {
  const json::object& o = as_message_object(v, "a message from beed");
  check_version(o);
  ServerMessage m;
  const json::value* data = o.if_contains("data");
  if (const json::value* event = o.if_contains("event")) {
    if (!event->is_string() || event->get_string().empty())
      bad_message("\"event\" must be a non-empty string");
    m.is_event = true;
    m.event.name = event->get_string();
    if (data != nullptr) m.event.data = *data;
    return m;
  }
  const json::value* status = o.if_contains("status");
  if (status == nullptr || !status->is_string()) bad_message("missing \"status\" in a reply");
  const std::optional<Status> s = parse_status(status->get_string());
  if (!s) bad_message("unknown reply status '" + std::string(status->get_string()) + "'");
  m.reply.status = *s;
  if (const json::value* error = o.if_contains("error")) {
    if (!error->is_string()) bad_message("\"error\" must be a string");
    m.reply.error = error->get_string();
  }
  if (data != nullptr) m.reply.data = *data;
  return m;
}

ServerMessage parse_server_message(std::string_view payload) {
  return server_message_from_json(parse_json(payload));
}

}  // namespace pb::control
