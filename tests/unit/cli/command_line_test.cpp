#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "cli/beectl_main.hpp"
#include "cli/command_line.hpp"

using namespace pb::cli;

namespace {

struct Run {
  int code;
  std::string out;
  std::string err;
};

Run beectl(std::vector<std::string> args, const char* env = nullptr) {
  std::ostringstream out, err;
  const int code = run_beectl(args, env, out, err);
  return {code, out.str(), err.str()};
}

Invocation parse(std::vector<std::string> args, const char* env = nullptr) {
  return parse_command_line(args, env);
}

std::string args_of(const Invocation& inv) {
  return boost::json::serialize(inv.request.args);
}

}  // namespace

TEST_CASE("commands and their arguments become requests") {
  const Invocation status = parse({"status"});
  CHECK(status.action == Invocation::Action::run);
  CHECK(status.request.command == "status");
  CHECK(args_of(status) == "{}");
  CHECK_FALSE(status.json);

  const Invocation sync = parse({"full-sync", "acme", "--wait"});
  CHECK(sync.request.command == "full-sync");
  CHECK(args_of(sync) == R"({"connection":"acme","wait":true})");

  CHECK(args_of(parse({"inventory", "--sku", "A*", "acme", "--changed", "--limit", "5"})) ==
        R"({"sku":"A*","connection":"acme","changed":true,"limit":5})");
  CHECK(args_of(parse({"inventory", "acme", "--limit=0", "--sku=-x"})) ==
        R"({"connection":"acme","limit":0,"sku":"-x"})");
  // After "--", a name that looks like an option is still a connection name.
  CHECK_THROWS_AS(parse({"sync", "--", "--wait"}), UsageError);
  CHECK(args_of(parse({"sync", "--", "acme"})) == R"({"connection":"acme"})");
}

TEST_CASE("history, diff, pause, resume and reload become requests") {
  const Invocation history = parse({"history", "acme"});
  CHECK(history.request.command == "history");
  CHECK(args_of(history) == R"({"connection":"acme"})");  // beed's default limit applies
  CHECK(args_of(parse({"history", "--limit", "5", "acme"})) ==
        R"({"limit":5,"connection":"acme"})");
  CHECK(args_of(parse({"diff", "acme"})) == R"({"connection":"acme"})");
  CHECK(args_of(parse({"diff", "acme", "--limit=0"})) == R"({"connection":"acme","limit":0})");
  CHECK(parse({"pause", "acme"}).request.command == "pause");
  CHECK(args_of(parse({"pause", "acme"})) == R"({"connection":"acme"})");
  CHECK(args_of(parse({"resume", "acme"})) == R"({"connection":"acme"})");
  const Invocation reload = parse({"reload"});
  CHECK(reload.request.command == "reload");
  CHECK(args_of(reload) == "{}");
}

TEST_CASE("global options go anywhere, --socket beats $BEECTL_SOCKET beats the default") {
  CHECK(parse({"status"}).socket == "/run/packagebee/beed.sock");
  CHECK(parse({"status"}, "").socket == "/run/packagebee/beed.sock");
  CHECK(parse({"status"}, "/tmp/env.sock").socket == "/tmp/env.sock");
  CHECK(parse({"--socket", "/tmp/flag.sock", "status"}, "/tmp/env.sock").socket ==
        "/tmp/flag.sock");
  CHECK(parse({"status", "--socket=/tmp/eq.sock"}, "/tmp/env.sock").socket == "/tmp/eq.sock");
  CHECK(parse({"status", "--json"}).json);
  CHECK(parse({"--json", "connections"}).json);
}

TEST_CASE("argument errors print one line and a pointer to help, and exit 2") {
  const auto usage = [](std::vector<std::string> args) {
    const Run r = beectl(std::move(args));
    CHECK(r.code == 2);
    CHECK(r.out == "");
    return r.err;
  };
  CHECK(usage({}) == "beectl: missing COMMAND\nsee beectl --help\n");
  CHECK(usage({"--bogus"}) == "beectl: unknown option '--bogus'\nsee beectl --help\n");
  CHECK(usage({"-x"}) == "beectl: unknown option '-x'\nsee beectl --help\n");
  CHECK(usage({"frobnicate"}) == "beectl: unknown command 'frobnicate'\nsee beectl --help\n");
  CHECK(usage({"status", "--bogus"}) ==
        "beectl: unknown option '--bogus' for 'status'\nsee beectl status --help\n");
  CHECK(usage({"inventory", "acme", "--wait"}) ==
        "beectl: unknown option '--wait' for 'inventory'\nsee beectl inventory --help\n");
  CHECK(usage({"status", "extra"}) ==
        "beectl: unexpected argument 'extra'\nsee beectl status --help\n");
  CHECK(usage({"sync"}) == "beectl: missing CONNECTION for 'sync'\nsee beectl sync --help\n");
  CHECK(usage({"full-sync", "--wait"}) ==
        "beectl: missing CONNECTION for 'full-sync'\nsee beectl full-sync --help\n");
  CHECK(usage({"sync", "acme", "other"}) ==
        "beectl: unexpected argument 'other'\nsee beectl sync --help\n");
  CHECK(usage({"sync", "../x"}) ==
        "beectl: invalid connection name '../x' (1-64 of A-Z a-z 0-9 _ . -, starting with a letter "
        "or digit)\nsee beectl sync --help\n");
  CHECK(usage({"sync", "acme", "--wait=yes"}) ==
        "beectl: --wait takes no value\nsee beectl sync --help\n");
  CHECK(usage({"sync", "acme", "--wait", "--wait"}) ==
        "beectl: --wait given twice\nsee beectl sync --help\n");
  CHECK(usage({"inventory", "acme", "--limit", "-3"}) ==
        "beectl: --limit must be a non-negative integer, got '-3'\nsee beectl inventory --help\n");
  CHECK(usage({"inventory", "acme", "--limit=abc"}) ==
        "beectl: --limit must be a non-negative integer, got 'abc'\nsee beectl inventory --help\n");
  CHECK(usage({"inventory", "acme", "--limit", "+5"}) ==
        "beectl: --limit must be a non-negative integer, got '+5'\nsee beectl inventory --help\n");
  CHECK(usage({"inventory", "acme", "--limit", "99999999999999999999"}) ==
        "beectl: --limit must be a non-negative integer, got '99999999999999999999'\n"
        "see beectl inventory --help\n");
  CHECK(usage({"inventory", "acme", "--limit"}) ==
        "beectl: missing N after --limit\nsee beectl inventory --help\n");
  CHECK(usage({"status", "--socket"}) ==
        "beectl: missing PATH after --socket\nsee beectl status --help\n");
}

TEST_CASE("the new commands' argument errors exit 2") {
  const auto usage = [](std::vector<std::string> args) {
    const Run r = beectl(std::move(args));
    CHECK(r.code == 2);
    CHECK(r.out == "");
    return r.err;
  };
  CHECK(usage({"history"}) ==
        "beectl: missing CONNECTION for 'history'\nsee beectl history --help\n");
  CHECK(usage({"history", "acme", "--limit", "x"}) ==
        "beectl: --limit must be a non-negative integer, got 'x'\nsee beectl history --help\n");
  CHECK(usage({"history", "acme", "--limit"}) ==
        "beectl: missing N after --limit\nsee beectl history --help\n");
  CHECK(usage({"history", "acme", "--wait"}) ==
        "beectl: unknown option '--wait' for 'history'\nsee beectl history --help\n");
  CHECK(usage({"diff"}) == "beectl: missing CONNECTION for 'diff'\nsee beectl diff --help\n");
  CHECK(usage({"diff", "acme", "--limit=-1"}) ==
        "beectl: --limit must be a non-negative integer, got '-1'\nsee beectl diff --help\n");
  CHECK(usage({"pause"}) == "beectl: missing CONNECTION for 'pause'\nsee beectl pause --help\n");
  CHECK(usage({"pause", "acme", "now"}) ==
        "beectl: unexpected argument 'now'\nsee beectl pause --help\n");
  CHECK(usage({"resume", "a b"}) ==
        "beectl: invalid connection name 'a b' (1-64 of A-Z a-z 0-9 _ . -, starting with a letter "
        "or digit)\nsee beectl resume --help\n");
  CHECK(usage({"reload", "extra"}) ==
        "beectl: unexpected argument 'extra'\nsee beectl reload --help\n");
  CHECK(usage({"reload", "--limit", "3"}) ==
        "beectl: unknown option '--limit' for 'reload'\nsee beectl reload --help\n");
}

TEST_CASE("--help lists every command from the table and the exit statuses") {
  const Run r = beectl({"--help"});
  CHECK(r.code == 0);
  CHECK(r.err == "");
  CHECK(r.out.rfind("Usage: beectl [--socket PATH] [--json] COMMAND [ARGS...]\n", 0) == 0);
  for (const auto* line : {
           "  status\n      show beed's connections, their last sync and the next one\n",
           "  full-sync CONNECTION [--wait] [--allow-zeroing]\n      start a Full Sync: push every "
           "SKU's quantity to "
           "the store (changes state)\n",
           "  inventory CONNECTION [--sku GLOB] [--changed] [--limit N] [--after SKU]\n      show "
           "what beed "
           "knows "
           "of a connection's SKUs\n",
           "  --socket PATH  control socket (default /run/packagebee/beed.sock, or "
           "$BEECTL_SOCKET)\n",
           "  0  success (with --wait: the run finished ok)\n",
           "  5  cannot reach beed (no socket, refused, timeout, protocol error)\n",
           "  6  permission denied (socket access, or a mutating command)\n",
       })
    CHECK_MESSAGE(r.out.find(line) != std::string::npos, line);
  CHECK(beectl({"status", "-h"}).out.rfind("Usage: beectl status\n", 0) == 0);
}

TEST_CASE("--help shows the new commands with their summaries") {
  const std::string out = beectl({"--help"}).out;
  for (const auto* line : {
           "  history CONNECTION [--limit N]\n      list a connection's recent sync runs, newest "
           "first\n",
           "  diff CONNECTION [--limit N] [--after SKU]\n      show what a Smart Sync would push "
           "now, without "
           "pushing anything\n",
           "  pause CONNECTION\n      pause a connection's automatic syncs; manual syncs still run "
           "(changes state)\n",
           "  resume CONNECTION\n      resume a connection's automatic syncs (changes state)\n",
           "  reload\n      re-read beed's configuration; if it is invalid, keep the running one "
           "(changes state)\n",
           "Exit status:\n",
       })
    CHECK_MESSAGE(out.find(line) != std::string::npos, line);
  // Every command in the table, and each one's own help.
  for (const pb::control::CommandSpec& c : pb::control::commands()) {
    CHECK_MESSAGE(out.find("  " + pb::control::usage(c) + "\n") != std::string::npos, c.name);
    const Run help = beectl({std::string(c.name), "--help"});
    CHECK_MESSAGE(help.code == 0, c.name);
    CHECK_MESSAGE(help.out.rfind("Usage: beectl " + pb::control::usage(c) + "\n", 0) == 0, c.name);
  }
}

TEST_CASE("the new commands' own help") {
  CHECK(beectl({"history", "--help"}).out ==
        "Usage: beectl history CONNECTION [--limit N]\n"
        "\n"
        "List a connection's recent sync runs, newest first.\n"
        "\n"
        "Arguments:\n"
        "  CONNECTION  the connection's name, as in beed's configuration\n"
        "  --limit N   list the N newest runs (default 20)\n"
        "\n"
        "Global options (--socket PATH, --json) and exit statuses: see beectl --help.\n");
  CHECK(beectl({"diff", "-h"}).out ==
        "Usage: beectl diff CONNECTION [--limit N] [--after SKU]\n"
        "\n"
        "Show what a Smart Sync would push now, without pushing anything.\n"
        "\n"
        "Arguments:\n"
        "  CONNECTION   the connection's name, as in beed's configuration\n"
        "  --limit N    list at most N changes (default 1000; 0: no limit)\n"
        "  --after SKU  list only what comes after SKU (a reply's next_after)\n"
        "\n"
        "Global options (--socket PATH, --json) and exit statuses: see beectl --help.\n");
  CHECK(beectl({"reload", "--help"}).out ==
        "Usage: beectl reload\n"
        "\n"
        "Re-read beed's configuration; if it is invalid, keep the running one.\n"
        "Changes state: needs write access to beed.\n"
        "\n"
        "Global options (--socket PATH, --json) and exit statuses: see beectl --help.\n");
  CHECK(beectl({"pause", "--help"}).out ==
        "Usage: beectl pause CONNECTION\n"
        "\n"
        "Pause a connection's automatic syncs; manual syncs still run.\n"
        "Changes state: needs write access to beed.\n"
        "\n"
        "Arguments:\n"
        "  CONNECTION  the connection's name, as in beed's configuration\n"
        "\n"
        "Global options (--socket PATH, --json) and exit statuses: see beectl --help.\n");
}

TEST_CASE("COMMAND --help shows that command's usage, even without its arguments") {
  const Run r = beectl({"sync", "--help"});
  CHECK(r.code == 0);
  CHECK(r.out ==
        "Usage: beectl sync CONNECTION [--wait] [--allow-zeroing]\n"
        "\n"
        "Start a Smart Sync (\"Update inventory\"): push only what changed.\n"
        "Changes state: needs write access to beed.\n"
        "\n"
        "Arguments:\n"
        "  CONNECTION       the connection's name, as in beed's configuration\n"
        "  --wait           wait for the run to end, printing progress; the exit status is its "
        "result\n"
        "  --allow-zeroing  accept a feed the zeroing guard would refuse (this run only)\n"
        "\n"
        "Global options (--socket PATH, --json) and exit statuses: see beectl --help.\n");
  CHECK(beectl({"inventory", "--help"}).out ==
        "Usage: beectl inventory CONNECTION [--sku GLOB] [--changed] [--limit N] [--after SKU]\n"
        "\n"
        "Show what beed knows of a connection's SKUs.\n"
        "\n"
        "Arguments:\n"
        "  CONNECTION   the connection's name, as in beed's configuration\n"
        "  --sku GLOB   only SKUs matching GLOB (* and ? wildcards)\n"
        "  --changed    only SKUs whose store quantity is not confirmed yet\n"
        "  --limit N    list at most N items\n"
        "  --after SKU  list only what comes after SKU (a reply's next_after)\n"
        "\n"
        "Global options (--socket PATH, --json) and exit statuses: see beectl --help.\n");
}

TEST_CASE("--version prints the version") {
  const Run r = beectl({"--version"});
  CHECK(r.code == 0);
  CHECK(r.out == "beectl 0.1.0 (control protocol 1)\n");
}
