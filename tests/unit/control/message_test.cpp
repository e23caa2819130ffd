#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "control/frame.hpp"
#include "control/message.hpp"

using namespace pb::control;
namespace json = boost::json;

namespace {

// Parses `text` as a request and returns the ProtocolError's kind and message.
std::pair<ProtocolError::Kind, std::string> request_error(std::string_view text) {
  try {
    parse_request(text);
  } catch (const ProtocolError& e) {
    return {e.kind(), e.what()};
  }
  return {ProtocolError::Kind::bad_frame, "no error"};
}

}  // namespace

TEST_CASE("status names round-trip and are stable") {
  CHECK(to_string(Status::ok) == "ok");
  CHECK(to_string(Status::unknown_connection) == "unknown_connection");
  for (auto s :
       {Status::ok, Status::bad_request, Status::unknown_command, Status::unknown_connection,
        Status::permission_denied, Status::refused, Status::internal})
    CHECK(parse_status(to_string(s)) == s);
  CHECK_FALSE(parse_status("OK").has_value());
}

TEST_CASE("messages serialise as documented") {
  Request r;
  r.command = "full-sync";
  r.args["connection"] = "acme";
  r.args["wait"] = true;
  CHECK(boost::json::serialize(to_json(r)) ==
        R"({"v":1,"command":"full-sync","args":{"connection":"acme","wait":true}})");
  CHECK(boost::json::serialize(
            to_json(Reply::failure(Status::unknown_connection, "no connection named 'x'"))) ==
        R"({"v":1,"status":"unknown_connection","code":3,"error":"no connection named 'x'"})");
  CHECK(boost::json::serialize(to_json(Reply::success(json::object{{"run_id", 12}}))) ==
        R"({"v":1,"status":"ok","code":0,"data":{"run_id":12}})");
  CHECK(boost::json::serialize(to_json(Reply::success())) == R"({"v":1,"status":"ok","code":0})");
  CHECK(boost::json::serialize(to_json(Event{"progress", json::object{{"run_id", 12}}})) ==
        R"({"v":1,"event":"progress","data":{"run_id":12}})");
}

TEST_CASE("a request round-trips") {
  Request r;
  r.command = "inventory";
  r.args["connection"] = "acme";
  r.args["limit"] = 5;
  const Request back = parse_request(boost::json::serialize(to_json(r)));
  CHECK(back.version == 1);
  CHECK(back.command == "inventory");
  CHECK(back.args == r.args);
  CHECK(parse_request(R"({"v":1,"command":"status"})").args.empty());
}

TEST_CASE("malformed requests are refused with a reason") {
  using K = ProtocolError::Kind;
  CHECK(request_error("{\"v\":1,") ==
        std::pair{K::bad_json, std::string("malformed JSON: incomplete JSON")});
  CHECK(request_error("[1]") ==
        std::pair{K::bad_json, std::string("a request must be a JSON object")});
  CHECK(request_error(R"({"command":"status"})") ==
        std::pair{K::bad_message, std::string(R"(missing protocol version "v" (supported: 1))")});
  CHECK(request_error(R"({"v":2,"command":"status"})") ==
        std::pair{K::unsupported_version,
                  std::string("unsupported protocol version 2 (supported: 1)")});
  CHECK(request_error(R"({"v":"1","command":"status"})") ==
        std::pair{K::bad_message,
                  std::string(R"(protocol version "v" must be an integer (supported: 1))")});
  CHECK(request_error(R"({"v":1})") ==
        std::pair{K::bad_message, std::string(R"(missing "command")")});
  CHECK(request_error(R"({"v":1,"command":7})") ==
        std::pair{K::bad_message, std::string(R"("command" must be a string)")});
  CHECK(request_error(R"({"v":1,"command":""})") ==
        std::pair{K::bad_message, std::string(R"("command" must not be empty)")});
  CHECK(request_error(R"({"v":1,"command":"status","args":[]})") ==
        std::pair{K::bad_message, std::string(R"("args" must be an object)")});
  CHECK(request_error("{\"v\":1,\"command\":\"\xff\"}").first == K::bad_json);
}

TEST_CASE("server messages decode into events or replies") {
  const ServerMessage e = parse_server_message(R"({"v":1,"event":"progress","data":{"pushed":4}})");
  CHECK(e.is_event);
  CHECK(e.event.name == "progress");
  CHECK(e.event.data.at("pushed") == 4);

  const ServerMessage r =
      parse_server_message(R"({"v":1,"status":"refused","code":5,"error":"too many clients"})");
  CHECK_FALSE(r.is_event);
  CHECK(r.reply.status == Status::refused);
  CHECK(r.reply.error == "too many clients");
  CHECK(r.reply.data.is_null());

  CHECK_THROWS_WITH_AS(parse_server_message(R"({"v":1,"status":"great","code":0})"),
                       "unknown reply status 'great'", ProtocolError);
  CHECK_THROWS_WITH_AS(parse_server_message(R"({"v":3,"status":"ok"})"),
                       "unsupported protocol version 3 (supported: 1)", ProtocolError);
}

TEST_CASE("a refused reload, shutting down and too many clients have statuses of their own") {
  // The codes are part of the protocol (docs/CONTROL-PROTOCOL.md): never renumbered.
  CHECK(static_cast<int>(Status::invalid_config) == 7);
  CHECK(static_cast<int>(Status::shutting_down) == 8);
  CHECK(static_cast<int>(Status::busy) == 9);
  for (auto s : {Status::invalid_config, Status::shutting_down, Status::busy})
    CHECK(parse_status(to_string(s)) == s);
  CHECK(to_string(Status::invalid_config) == "invalid_config");
  CHECK(to_string(Status::shutting_down) == "shutting_down");
  CHECK(to_string(Status::busy) == "busy");
  const ServerMessage m = parse_server_message(
      R"j({"v":1,"status":"busy","code":9,"error":"too many connections from uid 7 (limit 16)"})j");
  CHECK(m.reply.status == Status::busy);
  CHECK(m.reply.error == "too many connections from uid 7 (limit 16)");
  CHECK(to_json(m.reply).at("code") == 9);
}

TEST_CASE("what beed sends is valid UTF-8 whatever bytes its texts hold") {
  // A SKU stored by an older version in Latin-1, an error quoting a binary header, a key.
  json::object item{{"sku", "CAF\xC9-1"}, {"quantity", 5}};
  json::object bad_key;
  bad_key["caf\xE9"] = json::array{"ok", "\xFF"};
  Reply reply = Reply::success(json::object{{"items", json::array{item, item}}, {"x", bad_key}});
  reply.error = "line 1: \x89PNG";
  reply.status = Status::refused;
  const std::string payload = json::serialize(to_json(reply));
  const ServerMessage m = parse_server_message(payload);  // beectl's parse: refuses non-UTF-8
  CHECK(m.reply.error == "line 1: \\x89PNG");
  CHECK(m.reply.data.at("items").at(1).at("sku") == "CAF\\xC9-1");
  CHECK(m.reply.data.at("x").at("caf\\xE9").at(1) == "\\xFF");

  Event event{"progress", json::object{{"file", "inv_\xE9.csv"}}};
  CHECK(parse_server_message(json::serialize(to_json(event))).event.data.at("file") ==
        "inv_\\xE9.csv");

  // Valid text, control characters and all, is sent as it is.
  const Reply fine = Reply::success(json::object{{"sku", "CAF\xC3\x89\t1"}});
  CHECK(parse_server_message(json::serialize(to_json(fine))).reply.data.at("sku") ==
        "CAF\xC3\x89\t1");
}
