#include "config/warehouse_checks.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "config/endpoint_url.hpp"
#include "config/postgres_conninfo.hpp"

namespace pb::config {

namespace {

// One connection's `warehouse:` node, or the `index`th of its `warehouses:`, for errors that
// point at a key of it.
class Section {
 public:
  Section(const YAML::Node& root, const std::string& connection, std::size_t index,
          const Reader& reader)
      : reader_(reader), path_("connections." + connection) {
    std::optional<YAML::Node> at = Reader::child(root, "connections");
    if (at) at = Reader::child(*at, connection);
    if (!at) return;
    if (auto single = Reader::child(*at, "warehouse")) {
      node_ = *single;
      path_ += ".warehouse";
    } else if (auto list = Reader::child(*at, "warehouses"); list && list->IsSequence()) {
      node_ = (*list)[index];
      path_ += ".warehouses[" + std::to_string(index) + "]";
    }
  }

  bool has(std::string_view key) const { return Reader::child(node_, key).has_value(); }

  // At the key's value when the file has the key, else at the section.
  [[noreturn]] void fail(std::string_view key, const std::string& message) const {
    const std::optional<YAML::Node> at = Reader::child(node_, key);
    reader_.fail_at(at.value_or(node_), path_ + "." + std::string(key), message);
  }

 private:
  const Reader& reader_;
  std::string path_;
  YAML::Node node_;
};

void check_url(const Section& section, const std::string& url) {
  if (const auto problem = endpoint_url_problem(url)) section.fail("url", *problem);
}

// Either key alone of a pair is a mistake that would otherwise surface as a 401 at each run.
void check_auth(const Section& section, const HttpAuthConfig& auth) {
  const bool basic = !auth.username.empty() || !auth.password_file.empty();
  if (!auth.bearer_token_file.empty() && basic)
    section.fail("bearer_token_file",
                 "bearer_token_file and username/password_file cannot both be set: choose bearer "
                 "or basic authentication");
  if (!auth.username.empty() && auth.password_file.empty())
    section.fail("username", "username needs password_file (HTTP Basic)");
  if (auth.username.empty() && !auth.password_file.empty())
    section.fail("password_file", "password_file needs username (HTTP Basic)");
}

void check_locations(const Section& section, const std::vector<std::string>& locations,
                     const std::string& location_key, std::string_view location_key_name) {
  if (!locations.empty() && location_key.empty())
    section.fail("locations", "locations needs " + std::string(location_key_name) +
                                  " (where each row's location is)");
}

// Dotted names ("stock.available"); each segment names a field, or indexes a list when it is
// all digits.
void check_field_path(const Section& section, std::string_view key, const std::string& path) {
  if (path.empty()) return;
  std::size_t start = 0;
  for (;;) {
    const auto dot = path.find('.', start);
    const auto end = dot == std::string::npos ? path.size() : dot;
    if (end == start)
      section.fail(key, "not a field path: \"" + path + "\" has an empty segment (write fields " +
                            "separated by single dots, e.g. stock.available)");
    if (dot == std::string::npos) return;
    start = dot + 1;
  }
}

void check_csv(const Section& section, const CsvWarehouseConfig& csv) {
  const bool from_path = !csv.path.empty();
  const bool from_url = !csv.url.empty();
  if (from_path && from_url)
    section.fail("url", "path and url cannot both be set: a feed is a local file or a URL");
  if (!from_path && !from_url)
    section.fail("path",
                 "missing required key \"path\" (the feed file or directory) or \"url\" (the "
                 "feed's address)");
  if (from_url) {
    check_url(section, csv.url);
    check_auth(section, csv.http.auth);
    if (section.has("pattern"))
      section.fail("pattern", "pattern is for a directory given as path, not for url");
  } else {
    for (const char* key :
         {"ca_file", "bearer_token_file", "username", "password_file", "timeout", "max_size"})
      if (section.has(key))
        section.fail(key, std::string(key) + " is for a feed read from url, not from path");
  }
  check_locations(section, csv.locations, csv.location_column, "location_column");
}

void check_postgres(const Section& section, const PostgresWarehouseConfig& postgres) {
  // The conninfo is parsed by libpq now, so a typo or a password in it fails here, not at a run.
  if (const auto problem = conninfo_problem(postgres.conninfo)) section.fail("conninfo", *problem);
  check_locations(section, postgres.locations, postgres.location_column, "location_column");
  const bool takes_cursor = postgres.query.find("$1") != std::string::npos;
  if (!postgres.cursor_column.empty() && !takes_cursor)
    section.fail("cursor_column",
                 "cursor_column needs a query that takes the last cursor as $1, e.g. WHERE $1 "
                 "IS NULL OR modified >= $1::timestamptz");
  if (postgres.cursor_column.empty() && takes_cursor)
    section.fail("query", "the query takes $1 but no cursor_column says where the cursor is");
  // As for http-json: a delta would give partial totals.
  if (!postgres.cursor_column.empty() && !postgres.location_column.empty())
    section.fail("cursor_column",
                 "cursor_column cannot be combined with location_column: an incremental read "
                 "returns only the locations that changed, and a SKU's total needs all of them");
  if (!postgres.cursor_column.empty() && postgres.duplicates == DuplicatePolicy::sum)
    section.fail("cursor_column",
                 "cursor_column cannot be combined with duplicates: sum: an incremental read "
                 "returns only the rows that changed");
}

void check_http_json(const Section& section, HttpJsonWarehouseConfig& json) {
  check_url(section, json.url);
  check_auth(section, json.http.auth);
  check_locations(section, json.locations, json.location_field, "location_field");
  check_field_path(section, "items_field", json.items_field);
  check_field_path(section, "sku_field", json.sku_field);
  check_field_path(section, "quantity_field", json.quantity_field);
  check_field_path(section, "location_field", json.location_field);
  check_field_path(section, "updated_at_field", json.updated_at_field);
  check_field_path(section, "next_cursor_field", json.next_cursor_field);
  // A delta holds only the items that changed: a total made of several items of one SKU (its
  // locations, or rows to add up) would be a partial sum, taken for the SKU's new quantity.
  if (!json.updated_since_param.empty() && !json.location_field.empty())
    section.fail("updated_since_param",
                 "updated_since_param cannot be combined with location_field: an incremental "
                 "read returns only the locations that changed, and a SKU's total needs all of "
                 "them");
  if (!json.updated_since_param.empty() && json.duplicates == DuplicatePolicy::sum)
    section.fail("updated_since_param",
                 "updated_since_param cannot be combined with duplicates: sum: an incremental "
                 "read returns only the items that changed, and a SKU's sum needs all of them");
  if (json.size_param.empty())
    json.size_param = json.paging == JsonPaging::offset ? "limit" : "per_page";
}

}  // namespace

void check_warehouses(Config& config, const YAML::Node& root, const Reader& reader) {
  for (ConnectionConfig& connection : config.connections) {
    for (std::size_t i = 0; i < connection.warehouses.size(); ++i) {
      const Section section(root, connection.name, i, reader);
      auto& warehouse = connection.warehouses[i].connector;
      if (const auto* csv = std::get_if<CsvWarehouseConfig>(&warehouse))
        check_csv(section, *csv);
      else if (const auto* postgres = std::get_if<PostgresWarehouseConfig>(&warehouse))
        check_postgres(section, *postgres);
      else if (auto* json = std::get_if<HttpJsonWarehouseConfig>(&warehouse))
        check_http_json(section, *json);
    }
  }
}

}  // namespace pb::config
