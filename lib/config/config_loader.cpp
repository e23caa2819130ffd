#include "config/config_loader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <map>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "config/config_reader.hpp"
#include "config/config_schema.hpp"
#include "config/endpoint_url.hpp"
#include "config/warehouse_checks.hpp"
#include "core/utf8.hpp"

namespace pb::config {

namespace {

// A configuration is a few kilobytes; anything this large is the wrong file (or /dev/zero).
constexpr std::size_t kMaxFileSize = 16u << 20;

std::string format_error(const std::string& file, int line, int column, const std::string& key_path,
                         const std::string& message) {
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  return out + message;
}

[[noreturn]] void fail_io(const std::string& file, int error) {
  throw ConfigError(file, 0, 0, {}, std::generic_category().message(error));
}

std::string read_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_io(name, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_io(name, errno);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxFileSize)
      throw ConfigError(name, 0, 0, {}, "larger than 16 MiB; not a configuration file");
  }
  return text;
}

int one_based(int zero_based) {
  return zero_based >= 0 ? zero_based + 1 : 0;
}

// Two connections rewriting one file would overwrite each other's stock on every run.
void check_store_paths(const Config& config, const YAML::Node& root, const Reader& reader) {
  std::map<std::filesystem::path, const std::string*> owners;
  for (const ConnectionConfig& connection : config.connections) {
    const auto* csv = std::get_if<CsvStoreConfig>(&connection.store);
    if (csv == nullptr) continue;
    const auto [it, inserted] = owners.emplace(csv->path, &connection.name);
    if (inserted) continue;
    std::optional<YAML::Node> at = Reader::child(root, "connections");
    if (at) at = Reader::child(*at, connection.name);
    if (at) at = Reader::child(*at, "store");
    if (at) at = Reader::child(*at, "path");
    reader.fail_at(at.value_or(YAML::Node()), "connections." + connection.name + ".store.path",
                   "connections \"" + *it->second + "\" and \"" + connection.name +
                       "\" both write " + csv->path.string());
  }
}

std::optional<YAML::Node> store_key(const YAML::Node& root, const std::string& connection,
                                    const char* key) {
  std::optional<YAML::Node> at = Reader::child(root, "connections");
  if (at) at = Reader::child(*at, connection);
  if (at) at = Reader::child(*at, "store");
  if (at) at = Reader::child(*at, key);
  return at;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

void check_url(const std::string& text, const YAML::Node& root, const Reader& reader,
               const std::string& connection, const char* key) {
  if (const auto problem = endpoint_url_problem(text))
    reader.fail_at(store_key(root, connection, key).value_or(YAML::Node()),
                   "connections." + connection + ".store." + key, *problem);
}

void check_shopify(ShopifyStoreConfig& shopify, const YAML::Node& root, const Reader& reader,
                   const std::string& connection) {
  const auto fail = [&](const char* key, const std::string& message) {
    reader.fail_at(store_key(root, connection, key).value_or(YAML::Node()),
                   "connections." + connection + ".store." + key, message);
  };
  auto& shop = shopify.shop;
  if (!shop.ends_with(".myshopify.com")) {
    if (shop.find('.') != std::string::npos)
      fail("shop", "expected the shop's NAME.myshopify.com domain (not a custom domain), or NAME");
    shop += ".myshopify.com";
  }
  const auto name = std::string_view(shop).substr(0, shop.size() - 14);
  if (name.empty() ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string_view::npos)
    fail("shop", "a shop name has only lower-case letters, digits and '-'");

  const auto& v = shopify.api_version;
  // Shopify releases a version every quarter.
  const auto month = v.size() == 7 ? v.substr(5, 2) : std::string();
  const bool dated = v.size() == 7 && all_digits(v.substr(0, 4)) && v[4] == '-' &&
                     (month == "01" || month == "04" || month == "07" || month == "10");
  if (v != "unstable" && !dated)
    fail("api_version", "expected a release YYYY-01|04|07|10 (e.g. 2026-10) or unstable");
  // changeFromQuantity and @idempotent, which make a retried push safe, exist from 2026-01.
  if (dated && v < "2026-01")
    fail("api_version",
         "versions before 2026-01 lack changeFromQuantity and @idempotent; use "
         "2026-01 or later");

  auto& location = shopify.location_id;
  constexpr std::string_view kGid = "gid://shopify/Location/";
  if (all_digits(location))
    location = std::string(kGid) + location;
  else if (!location.starts_with(kGid) ||
           !all_digits(std::string_view(location).substr(kGid.size())))
    fail("location_id", "expected a location number or gid://shopify/Location/NUMBER");

  if (!shopify.endpoint.empty()) check_url(shopify.endpoint, root, reader, connection, "endpoint");
}

void check_stores(Config& config, const YAML::Node& root, const Reader& reader) {
  for (ConnectionConfig& connection : config.connections) {
    if (auto* shopify = std::get_if<ShopifyStoreConfig>(&connection.store))
      check_shopify(*shopify, root, reader, connection.name);
    if (auto* woo = std::get_if<WooCommerceStoreConfig>(&connection.store)) {
      check_url(woo->url, root, reader, connection.name, "url");
      while (woo->url.ends_with('/')) woo->url.pop_back();
    }
  }
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, int column, std::string key_path,
                         std::string message)
    // Keys, yaml-cpp's messages and file names can carry bytes of the file that are not UTF-8
    // (a binary file given as the configuration); the message reaches beectl as JSON.
    : std::runtime_error(utf8::escape_invalid(format_error(file, line, column, key_path, message))),
      file_(utf8::escape_invalid(file)),
      line_(line),
      column_(column),
      key_path_(utf8::escape_invalid(key_path)),
      message_(utf8::escape_invalid(message)) {}

Config load_config_file(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  // Absolute, so relative paths in the file and a later reload do not depend on the working
  // directory, which the daemon changes.
  std::error_code ec;
  std::filesystem::path source = std::filesystem::absolute(path, ec);
  if (ec) source = path;
  source = source.lexically_normal();
  Config config = parse_config(text, path.string(), source.parent_path());
  config.source = std::move(source);
  return config;
}

namespace {

// Counts documents through yaml-cpp's event interface and keeps where the
// second one starts.
class DocumentCounter : public YAML::EventHandler {
 public:
  int documents = 0;
  YAML::Mark second{};  // the second document's first node (or its start)

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents == 2) {
      second = mark;
      want_node_ = true;
    }
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& mark) {
    if (!want_node_) return;
    second = mark;
    want_node_ = false;
  }
  bool want_node_ = false;
};

// Where a second document starts, if there is one. Not YAML::LoadAll: in
// yaml-cpp 0.7 (Debian 12) it never returns on some inputs, a lone "," among
// them (found by tests/fuzz/fuzz_config; yaml-cpp issue 1040). Asking the
// parser for at most two documents always ends.
std::optional<YAML::Mark> second_document(std::string_view yaml_text) {
  std::istringstream in{std::string(yaml_text)};
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
  }
  if (counter.documents < 2) return std::nullopt;
  return counter.second;
}

}  // namespace

Config parse_config(std::string_view yaml_text, const std::string& file_name,
                    const std::filesystem::path& base_dir) {
  YAML::Node root;
  std::optional<YAML::Mark> second;
  try {
    root = YAML::Load(std::string(yaml_text));
    if (root.IsMap()) second = second_document(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(file_name, one_based(e.mark.line), one_based(e.mark.column), {}, e.msg);
  }
  constexpr const char* kShape = "a map with the keys daemon and connections";
  if (root.IsNull())
    throw ConfigError(file_name, 0, 0, {}, std::string("the file is empty; expected ") + kShape);
  const Reader reader_for_errors(file_name, base_dir);
  if (second)
    throw ConfigError(file_name, one_based(second->line), one_based(second->column), {},
                      "a second YAML document; only one is allowed");
  if (!root.IsMap())
    reader_for_errors.fail_at(
        root, {},
        std::string("expected ") + kShape + " at the top level, got " + Reader::describe(root));

  Config config;
  config.source = file_name;
  Reader reader(file_name, base_dir);
  reader.section(root, root_schema(), config);
  check_store_paths(config, root, reader);
  check_stores(config, root, reader);
  check_warehouses(config, root, reader);
  return config;
}

}  // namespace pb::config
