// The control protocol's messages (docs/CONTROL-PROTOCOL.md). Both beed and
// beectl use these types; the wire form is one JSON object per frame.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace pb::control {

inline constexpr int kProtocolVersion = 1;

// Reply status codes. Stable: scripts see them in `beectl --json` output.
enum class Status {
  ok = 0,
  bad_request = 1,  // malformed frame/JSON, missing or wrong-typed argument
  unknown_command = 2,
  unknown_connection = 3,
  permission_denied = 4,  // mutating command from a peer without rights
  refused = 5,            // understood but not possible now, for no reason below
  internal = 6,           // a bug or an unexpected failure inside beed
  invalid_config = 7,     // `reload` of an invalid configuration: the running one stays
  shutting_down = 8,      // beed is stopping and starts nothing new
  busy = 9,               // too many connections, in all or from this uid: try again later
};
std::string_view to_string(Status s);
std::optional<Status> parse_status(std::string_view name);

// {"v":1,"command":"full-sync","args":{"connection":"acme","wait":true}}
struct Request {
  int version = kProtocolVersion;
  std::string command;
  boost::json::object args;
};

// Final reply: {"v":1,"status":"ok","code":0,"data":{...}} or
// {"v":1,"status":"unknown_connection","code":3,"error":"no connection named 'x'"}
struct Reply {
  Status status = Status::ok;
  std::string error;
  boost::json::value data;  // null unless the command returns something

  static Reply success(boost::json::value data = nullptr) {
    return {Status::ok, {}, std::move(data)};
  }
  static Reply failure(Status s, std::string message) { return {s, std::move(message), nullptr}; }
};

// Intermediate frame sent before the final reply by long commands (--wait):
// {"v":1,"event":"progress","data":{...}}
struct Event {
  std::string name;
  boost::json::value data;
};

boost::json::object to_json(const Request& r);
boost::json::object to_json(const Reply& r);
boost::json::object to_json(const Event& e);

// Throws ProtocolError (frame.hpp) with a message fit for the peer.
Request request_from_json(const boost::json::value& v);
// A frame's payload: JSON text → Request. Throws ProtocolError.
Request parse_request(std::string_view payload);

// A frame from beed is either an Event or the final Reply.
struct ServerMessage {
  bool is_event = false;
  Event event;
  Reply reply;
};
ServerMessage server_message_from_json(const boost::json::value& v);
ServerMessage parse_server_message(std::string_view payload);

}  // namespace pb::control
