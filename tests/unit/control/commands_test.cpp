#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "control/commands.hpp"

using namespace pb::control;

namespace {

std::string check(std::string_view command, std::string_view args_json) {
  const CommandSpec* c = find_command(command);
  REQUIRE(c != nullptr);
  return validate_args(*c, boost::json::parse(args_json).as_object());
}

}  // namespace

TEST_CASE("the table lists each command once, with its mutating flag") {
  std::vector<std::string_view> names;
  for (const CommandSpec& c : commands()) names.push_back(c.name);
  CHECK(names == std::vector<std::string_view>{"status", "full-sync", "sync", "inventory",
                                               "connections", "history", "diff", "pause", "resume",
                                               "reload"});
  CHECK_FALSE(find_command("status")->mutates);
  CHECK(find_command("full-sync")->mutates);
  CHECK(find_command("sync")->mutates);
  CHECK_FALSE(find_command("inventory")->mutates);
  CHECK_FALSE(find_command("connections")->mutates);
  CHECK_FALSE(find_command("history")->mutates);
  CHECK_FALSE(find_command("diff")->mutates);  // a dry run
  CHECK(find_command("pause")->mutates);
  CHECK(find_command("resume")->mutates);
  CHECK(find_command("reload")->mutates);
  for (const CommandSpec& c : commands()) {
    CHECK_MESSAGE(!c.summary.empty(), c.name);
    CHECK_MESSAGE(find_command(c.name) == &c, c.name);
  }
  CHECK(find_command("Status") == nullptr);
  CHECK(find_command("") == nullptr);
}

TEST_CASE("the table is ordered by command id, one entry per id") {
  REQUIRE(commands().size() == kCommandCount);
  for (std::size_t i = 0; i < kCommandCount; ++i) {
    const auto id = static_cast<CommandId>(i);
    CHECK_MESSAGE(commands()[i].id == id, commands()[i].name);
    CHECK(&command(id) == &commands()[i]);
  }
  CHECK(command(CommandId::full_sync).name == "full-sync");
  CHECK(command(CommandId::sync).name == "sync");
  CHECK(find_command("resume")->id == CommandId::resume);
}

TEST_CASE("usage lines are derived from the table") {
  CHECK(usage(*find_command("status")) == "status");
  CHECK(usage(*find_command("full-sync")) == "full-sync CONNECTION [--wait] [--allow-zeroing]");
  CHECK(usage(*find_command("sync")) == "sync CONNECTION [--wait] [--allow-zeroing]");
  CHECK(usage(*find_command("inventory")) ==
        "inventory CONNECTION [--sku GLOB] [--changed] [--limit N] [--after SKU]");
  CHECK(usage(*find_command("history")) == "history CONNECTION [--limit N]");
  CHECK(usage(*find_command("diff")) == "diff CONNECTION [--limit N] [--after SKU]");
  CHECK(usage(*find_command("pause")) == "pause CONNECTION");
  CHECK(usage(*find_command("resume")) == "resume CONNECTION");
  CHECK(usage(*find_command("reload")) == "reload");
}

TEST_CASE("validate_args accepts what the table allows") {
  CHECK(check("status", "{}") == "");
  CHECK(check("full-sync", R"({"connection":"acme"})") == "");
  CHECK(check("sync", R"({"connection":"acme","wait":false})") == "");
  CHECK(check("inventory", R"({"connection":"acme","sku":"A*","changed":true,"limit":0})") == "");
  CHECK(check("inventory", R"({"connection":"acme","limit":18446744073709551615})") == "");
  CHECK(check("history", R"({"connection":"acme"})") == "");
  CHECK(check("history", R"({"connection":"acme","limit":5})") == "");
  CHECK(check("diff", R"({"connection":"acme"})") == "");
  CHECK(check("diff", R"({"connection":"acme","limit":0})") == "");
  CHECK(check("pause", R"({"connection":"acme"})") == "");
  CHECK(check("resume", R"({"connection":"acme"})") == "");
  CHECK(check("reload", "{}") == "");
}

TEST_CASE("validate_args checks the new commands' arguments") {
  CHECK(check("history", "{}") == "missing argument 'connection' for 'history'");
  CHECK(check("history", R"({"connection":"acme","limit":-1})") ==
        "argument 'limit' must be a non-negative integer");
  CHECK(check("history", R"({"connection":"acme","wait":true})") ==
        "unknown argument 'wait' for 'history'");
  CHECK(check("diff", R"({"limit":5})") == "missing argument 'connection' for 'diff'");
  CHECK(check("diff", R"({"connection":"acme","limit":"all"})") ==
        "argument 'limit' must be a non-negative integer");
  CHECK(check("diff", R"({"connection":"a/b"})") == "invalid connection name 'a/b'");
  CHECK(check("pause", "{}") == "missing argument 'connection' for 'pause'");
  CHECK(check("pause", R"({"connection":"acme","limit":1})") ==
        "unknown argument 'limit' for 'pause'");
  CHECK(check("resume", R"({"connection":true})") == "argument 'connection' must be a string");
  CHECK(check("resume", "{}") == "missing argument 'connection' for 'resume'");
  CHECK(check("reload", R"({"connection":"acme"})") ==
        "unknown argument 'connection' for 'reload'");
  CHECK(check("reload", R"({"force":true})") == "unknown argument 'force' for 'reload'");
}

TEST_CASE("validate_args rejects unknown arguments, wrong types and bad connections") {
  CHECK(check("status", R"({"verbose":true})") == "unknown argument 'verbose' for 'status'");
  CHECK(check("status", R"({"connection":"acme"})") ==
        "unknown argument 'connection' for 'status'");
  CHECK(check("full-sync", "{}") == "missing argument 'connection' for 'full-sync'");
  CHECK(check("full-sync", R"({"connection":5})") == "argument 'connection' must be a string");
  CHECK(check("full-sync", R"({"connection":"../etc"})") == "invalid connection name '../etc'");
  CHECK(check("sync", R"({"connection":"acme","wait":"yes"})") ==
        "argument 'wait' must be a boolean");
  CHECK(check("sync", R"({"connection":"acme","wait":1})") == "argument 'wait' must be a boolean");
  CHECK(check("inventory", R"({"connection":"acme","sku":3})") ==
        "argument 'sku' must be a string");
  CHECK(check("inventory", R"({"connection":"acme","limit":-1})") ==
        "argument 'limit' must be a non-negative integer");
  CHECK(check("inventory", R"({"connection":"acme","limit":1.5})") ==
        "argument 'limit' must be a non-negative integer");
  CHECK(check("inventory", R"({"connection":"acme","limit":"5"})") ==
        "argument 'limit' must be a non-negative integer");
  CHECK(check("inventory", R"({"connection":"acme","wait":true})") ==
        "unknown argument 'wait' for 'inventory'");
}
