// The schema tables of the `warehouse:` section, one per connector type. What the tables cannot
// say (exactly one of path and url, keys that go together) is checked after loading
// (warehouse_checks.cpp).
#include <yaml-cpp/yaml.h>

#include <array>
#include <limits>
#include <string_view>
#include <utility>

#include "config/config_reader.hpp"
#include "config/config_schema.hpp"

namespace pb::config {

namespace {

using namespace std::string_view_literals;
using schema::file;
using schema::integer;
using schema::kDay;
using schema::text;

constexpr std::array<std::string_view, 2> kDuplicatePolicies{"error", "sum"};
constexpr std::array<std::string_view, 4> kPagings{"page", "offset", "cursor", "link"};

// A quote or line break would make every row ambiguous; NUL cannot be written to most tools.
constexpr std::string_view kNotDelimiters = "\"\r\n\0"sv;

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

// The keys every warehouse read over HTTP(S) shares, in CsvWarehouseConfig and
// HttpJsonWarehouseConfig alike (`http` member).
template <class T>
constexpr Field<T> ca_file_field() {
  return {.key = "ca_file",
          .kind = Kind::path,
          .description = "PEM certificates trusted besides the system store",
          .set = [](T& w, const Value& v) { w.http.ca_file = file(v); }};
}

template <class T>
constexpr Field<T> bearer_token_file_field() {
  return {.key = "bearer_token_file",
          .kind = Kind::secret_file,
          .description =
              "a file holding a token sent as \"Authorization: Bearer\", read at each "
              "run",
          .set = [](T& w, const Value& v) { w.http.auth.bearer_token_file = file(v); }};
}

template <class T>
constexpr Field<T> username_field() {
  return {.key = "username",
          .kind = Kind::string,
          .description = "the user name for HTTP Basic authentication (with password_file)",
          .set = [](T& w, const Value& v) { w.http.auth.username = text(v); }};
}

template <class T>
constexpr Field<T> password_file_field() {
  return {.key = "password_file",
          .kind = Kind::secret_file,
          .description = "a file holding the HTTP Basic password (with username), read at each run",
          .set = [](T& w, const Value& v) { w.http.auth.password_file = file(v); }};
}

template <class T>
constexpr Field<T> timeout_field() {
  return {.key = "timeout",
          .kind = Kind::duration,
          .default_value = "60s",
          .min = 1,
          .max = kDay,
          .description = "how long one request may take, the whole response read",
          .set = [](T& w, const Value& v) { w.http.timeout = std::get<std::chrono::seconds>(v); }};
}

// A list of location names (Kind::string: each item is one; the reader has no list kind).
template <class T>
constexpr Field<T> locations_field(std::string_view description) {
  return {.key = "locations",
          .kind = Kind::string,
          .description = description,
          .load = [](T& w, const YAML::Node& node, Reader& reader) {
            w.locations = reader.strings(node, "location");
          }};
}

constexpr Field<CsvWarehouseConfig> kCsvWarehouse[] = {
    {.key = "type", .kind = Kind::selector, .required = true, .description = "the connector"},
    {.key = "path",
     .kind = Kind::path,
     .description = "the feed file, or a directory whose newest file matching pattern is the feed "
                    "(or url)",
     .set = [](CsvWarehouseConfig& w, const Value& v) { w.path = file(v); }},
    {.key = "pattern",
     .kind = Kind::string,
     .default_value = "*.csv",
     .description = "the file name glob used when path is a directory",
     .set = [](CsvWarehouseConfig& w, const Value& v) { w.pattern = text(v); }},
    {.key = "sku_column",
     .kind = Kind::string,
     .default_value = "sku",
     .description = "the header of the SKU column",
     .set = [](CsvWarehouseConfig& w, const Value& v) { w.sku_column = text(v); }},
    {.key = "quantity_column",
     .kind = Kind::string,
     .default_value = "quantity",
     .description = "the header of the quantity column",
     .set = [](CsvWarehouseConfig& w, const Value& v) { w.quantity_column = text(v); }},
    {.key = "delimiter",
     .kind = Kind::character,
     .default_value = ",",
     .forbidden = kNotDelimiters,
     .description = "the field separator; write a tab as \"\\t\"",
     .set = [](CsvWarehouseConfig& w, const Value& v) { w.delimiter = std::get<char>(v); }},
    {.key = "duplicates",
     .kind = Kind::choice,
     .default_value = "error",
     .choices = kDuplicatePolicies,
     .description = "what a SKU listed twice in one feed (at one location) does: fail the run or "
                    "add up",
     .set = [](CsvWarehouseConfig& w,
               const Value& v) { w.duplicates = parse_duplicate_policy(text(v)).value(); }},
    {.key = "url",
     .kind = Kind::string,
     .description = "the feed's https:// address, instead of path; fetched with If-None-Match / "
                    "If-Modified-Since, so an unchanged feed is not read again",
     .set = [](CsvWarehouseConfig& w, const Value& v) { w.url = text(v); }},
    {.key = "location_column",
     .kind = Kind::string,
     .description = "the header of a location column: a SKU's rows at different locations are "
                    "added up",
     .set = [](CsvWarehouseConfig& w, const Value& v) { w.location_column = text(v); }},
    locations_field<CsvWarehouseConfig>(
        "the locations whose rows count (with location_column); default: all"),
    ca_file_field<CsvWarehouseConfig>(),
    bearer_token_file_field<CsvWarehouseConfig>(),
    username_field<CsvWarehouseConfig>(),
    password_file_field<CsvWarehouseConfig>(),
    timeout_field<CsvWarehouseConfig>(),
    {.key = "max_size",
     .kind = Kind::integer,
     .default_value = "1073741824",
     .min = 1,
     .max = 64 * kGiB,
     .description = "the largest feed fetched from url, in bytes (a larger one fails the run)",
     .set = [](CsvWarehouseConfig& w,
               const Value& v) { w.max_size = static_cast<std::uint64_t>(integer(v)); }},
};

constexpr Field<PostgresWarehouseConfig> kPostgresWarehouse[] = {
    {.key = "type", .kind = Kind::selector, .required = true, .description = "the connector"},
    {.key = "conninfo",
     .kind = Kind::string,
     .required = true,
     .description = "a libpq connection string or URI, without the password",
     .set = [](PostgresWarehouseConfig& w, const Value& v) { w.conninfo = text(v); }},
    {.key = "password_file",
     .kind = Kind::secret_file,
     .description = "a file holding the database password, read at each run",
     .set = [](PostgresWarehouseConfig& w, const Value& v) { w.password_file = file(v); }},
    {.key = "query",
     .kind = Kind::string,
     .required = true,
     .description = "one SELECT returning a SKU and a quantity column, run in a read-only "
                    "transaction",
     .set = [](PostgresWarehouseConfig& w, const Value& v) { w.query = text(v); }},
    {.key = "sku_column",
     .kind = Kind::string,
     .default_value = "sku",
     .description = "the name of the result column holding the SKU",
     .set = [](PostgresWarehouseConfig& w, const Value& v) { w.sku_column = text(v); }},
    {.key = "quantity_column",
     .kind = Kind::string,
     .default_value = "quantity",
     .description = "the name of the result column holding the quantity",
     .set = [](PostgresWarehouseConfig& w, const Value& v) { w.quantity_column = text(v); }},
    {.key = "connect_timeout",
     .kind = Kind::duration,
     .default_value = "10s",
     .min = 1,
     .max = 3600,
     .description = "how long connecting to the server may take",
     .set = [](PostgresWarehouseConfig& w,
               const Value& v) { w.connect_timeout = std::get<std::chrono::seconds>(v); }},
    {.key = "statement_timeout",
     .kind = Kind::duration,
     .default_value = "5m",
     .min = 1,
     .max = kDay,
     .description = "how long the query may run on the server before it is cancelled",
     .set = [](PostgresWarehouseConfig& w,
               const Value& v) { w.statement_timeout = std::get<std::chrono::seconds>(v); }},
    {.key = "duplicates",
     .kind = Kind::choice,
     .default_value = "error",
     .choices = kDuplicatePolicies,
     .description = "what a SKU returned twice (at one location) does: fail the run or add up",
     .set = [](PostgresWarehouseConfig& w,
               const Value& v) { w.duplicates = parse_duplicate_policy(text(v)).value(); }},
    {.key = "location_column",
     .kind = Kind::string,
     .description = "the name of a result column holding a location: a SKU's rows at different "
                    "locations are added up",
     .set = [](PostgresWarehouseConfig& w, const Value& v) { w.location_column = text(v); }},
    locations_field<PostgresWarehouseConfig>(
        "the locations whose rows count (with location_column); default: all"),
    {.key = "cursor_column",
     .kind = Kind::string,
     .description = "incremental reads: the result column (a timestamp or an increasing number) "
                    "whose greatest value the next Smart Sync passes to the query as $1",
     .set = [](PostgresWarehouseConfig& w, const Value& v) { w.cursor_column = text(v); }},
};

constexpr Field<HttpJsonWarehouseConfig> kHttpJsonWarehouse[] = {
    {.key = "type", .kind = Kind::selector, .required = true, .description = "the connector"},
    {.key = "url",
     .kind = Kind::string,
     .required = true,
     .description = "the endpoint answering inventory pages, e.g. "
                    "https://api.example.com/v1/inventory (https unless on this machine)",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.url = text(v); }},
    {.key = "paging",
     .kind = Kind::choice,
     .default_value = "page",
     .choices = kPagings,
     .description = "how the next page is asked for: a page number, an offset, a cursor from the "
                    "body, or the Link: rel=\"next\" header",
     .set =
         [](HttpJsonWarehouseConfig& w, const Value& v) {
           const auto& p = text(v);
           w.paging = p == "page"     ? JsonPaging::page
                      : p == "offset" ? JsonPaging::offset
                      : p == "cursor" ? JsonPaging::cursor
                                      : JsonPaging::link;
         }},
    {.key = "page_param",
     .kind = Kind::string,
     .default_value = "page",
     .description = "the query parameter carrying the page number (paging: page)",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.page_param = text(v); }},
    {.key = "size_param",
     .kind = Kind::string,
     .description = "the query parameter carrying page_size; default: limit for paging: offset, "
                    "per_page otherwise",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.size_param = text(v); }},
    {.key = "offset_param",
     .kind = Kind::string,
     .default_value = "offset",
     .description = "the query parameter carrying the number of items to skip (paging: offset)",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.offset_param = text(v); }},
    {.key = "cursor_param",
     .kind = Kind::string,
     .default_value = "cursor",
     .description = "the query parameter carrying the cursor of the next page (paging: cursor)",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.cursor_param = text(v); }},
    {.key = "next_cursor_field",
     .kind = Kind::string,
     .default_value = "next_cursor",
     .description = "the field path of the next page's cursor in the body; null or absent on the "
                    "last page (paging: cursor)",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.next_cursor_field = text(v); }},
    {.key = "page_size",
     .kind = Kind::integer,
     .default_value = "100",
     .min = 1,
     .max = 100000,
     .description = "items asked for per page; a shorter page is the last (paging: page, offset), "
                    "so no more than the server's own limit",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.page_size = integer(v); }},
    {.key = "first_page",
     .kind = Kind::integer,
     .default_value = "1",
     .min = 0,
     .max = 1,
     .description = "the number of the first page, 0 or 1 (paging: page)",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.first_page = integer(v); }},
    {.key = "items_field",
     .kind = Kind::string,
     .default_value = "items",
     .description = "the field path of the list of items in the body; \"\" when the body is the "
                    "list",
     .load =
         [](HttpJsonWarehouseConfig& w, const YAML::Node& node, Reader& reader) {
           if (!node.IsDefined() || node.IsNull()) return;  // the default stays
           if (node.IsScalar() && node.Scalar().empty()) {
             w.items_field.clear();
             return;
           }
           w.items_field = text(reader.scalar(node, Kind::string));
         }},
    {.key = "sku_field",
     .kind = Kind::string,
     .default_value = "sku",
     .description = "the field path of an item's SKU",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.sku_field = text(v); }},
    {.key = "quantity_field",
     .kind = Kind::string,
     .default_value = "quantity",
     .description = "the field path of an item's quantity, e.g. stock.available: an integer, or a "
                    "string holding one",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.quantity_field = text(v); }},
    {.key = "location_field",
     .kind = Kind::string,
     .description = "the field path of an item's location: a SKU's items at different locations "
                    "are added up",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.location_field = text(v); }},
    locations_field<HttpJsonWarehouseConfig>(
        "the locations whose items count (with location_field); default: all"),
    {.key = "updated_since_param",
     .kind = Kind::string,
     .description = "the query parameter asking for the items changed at or after a time: a "
                    "Smart Sync then reads only those (not with location_field or duplicates: "
                    "sum); default: every read is a full read",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.updated_since_param = text(v); }},
    {.key = "updated_at_field",
     .kind = Kind::string,
     .default_value = "updated_at",
     .description = "the field path of an item's last change, an RFC 3339 time (needed with "
                    "updated_since_param)",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.updated_at_field = text(v); }},
    {.key = "duplicates",
     .kind = Kind::choice,
     .default_value = "error",
     .choices = kDuplicatePolicies,
     .description = "what a SKU listed twice in one read (at one location) does: fail the run or "
                    "add up",
     .set = [](HttpJsonWarehouseConfig& w,
               const Value& v) { w.duplicates = parse_duplicate_policy(text(v)).value(); }},
    {.key = "max_pages",
     .kind = Kind::integer,
     .default_value = "100000",
     .min = 1,
     .max = std::numeric_limits<std::int32_t>::max(),
     .description = "the most pages one read may take; more fails the run (a server that loops)",
     .set = [](HttpJsonWarehouseConfig& w, const Value& v) { w.max_pages = integer(v); }},
    ca_file_field<HttpJsonWarehouseConfig>(),
    bearer_token_file_field<HttpJsonWarehouseConfig>(),
    username_field<HttpJsonWarehouseConfig>(),
    password_file_field<HttpJsonWarehouseConfig>(),
    timeout_field<HttpJsonWarehouseConfig>(),
};

constexpr Alternative<WarehouseConfig> kWarehouseTypes[] = {
    {.type = "csv",
     .description = "a CSV file, the newest matching file in a directory, or a CSV file over HTTPS",
     .load =
         [](WarehouseConfig& w, const YAML::Node& node, Reader& reader) {
           CsvWarehouseConfig csv;
           reader.section(node, kCsvWarehouse, csv);
           w = std::move(csv);
         }},
    {.type = "postgres",
     .description = "a query on a PostgreSQL database (a WMS or ERP table or view)",
     .load =
         [](WarehouseConfig& w, const YAML::Node& node, Reader& reader) {
           PostgresWarehouseConfig postgres;
           reader.section(node, kPostgresWarehouse, postgres);
           w = std::move(postgres);
         }},
    {.type = "http-json",
     .description = "a REST endpoint answering pages of inventory items in JSON",
     .load =
         [](WarehouseConfig& w, const YAML::Node& node, Reader& reader) {
           HttpJsonWarehouseConfig json;
           reader.section(node, kHttpJsonWarehouse, json);
           w = std::move(json);
         }},
};

}  // namespace

std::span<const Alternative<WarehouseConfig>> warehouse_types() {
  return kWarehouseTypes;
}

}  // namespace pb::config
