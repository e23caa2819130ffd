// The validated, typed configuration of beed. Produced only by the loader
// (config_loader.hpp), so every value here has passed the schema's checks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/http_config.hpp"
#include "config/magento_store_config.hpp"
#include "config/medusa_store_config.hpp"
#include "core/calendar_schedule.hpp"
#include "core/types.hpp"

namespace pb::config {

// A secret file written as "$CREDENTIALS_DIRECTORY/NAME" is read from the
// directory systemd's LoadCredential= provides, found at run time.
inline constexpr std::string_view kCredentialsPrefix = "$CREDENTIALS_DIRECTORY/";

struct DaemonConfig {
  std::filesystem::path socket = "/run/packagebee/beed.sock";
  std::filesystem::path state_dir = "/var/lib/packagebee";
  std::string log_level = "info";  // trace|debug|info|warning|error|critical|off
  unsigned max_concurrent_syncs = 4;
  std::string socket_group;  // empty: beed's own group
  std::string admin_group;   // empty: only root and beed's user may mutate
  HttpListenerConfig http;   // daemon.http (http_config.hpp); off by default

  bool operator==(const DaemonConfig&) const = default;
};

// How a warehouse read over HTTP(S) authenticates: a bearer token, HTTP Basic, or nothing.
// The secrets stay in files, read at each run (a rotated token needs no reload).
struct HttpAuthConfig {
  std::filesystem::path bearer_token_file;  // "Authorization: Bearer <token>"
  std::string username;                     // with password_file: HTTP Basic
  std::filesystem::path password_file;

  bool operator==(const HttpAuthConfig&) const = default;
};

// What every warehouse read over HTTP(S) shares besides its URL.
struct HttpSourceConfig {
  HttpAuthConfig auth;
  std::filesystem::path ca_file;     // extra trust anchors; empty: system store only
  std::chrono::seconds timeout{60};  // one request: send it and read the whole response

  bool operator==(const HttpSourceConfig&) const = default;
};

// Warehouse `type: csv`: one file, or a directory whose newest file matching
// `pattern` is the feed, or (with `url` instead of `path`) a file fetched over HTTP(S).
struct CsvWarehouseConfig {
  std::filesystem::path path;     // exactly one of path and url (checked)
  std::string url;                // https unless loopback; no userinfo (checked)
  std::string pattern = "*.csv";  // used only when `path` is a directory
  std::string sku_column = "sku";
  std::string quantity_column = "quantity";
  char delimiter = ',';
  DuplicatePolicy duplicates = DuplicatePolicy::error;
  // When set, a SKU's rows at different locations are added up (rows of one SKU at one location
  // follow `duplicates`); rows at a location not in `locations` are left out, unless it is empty.
  std::string location_column;
  std::vector<std::string> locations;
  HttpSourceConfig http;                            // with `url` only
  std::uint64_t max_size = std::uint64_t{1} << 30;  // bytes of a feed fetched from `url`

  bool operator==(const CsvWarehouseConfig&) const = default;
};

// Warehouse `type: postgres`: a query on a WMS/ERP database (a table or view), read through libpq
// in one read-only transaction.
struct PostgresWarehouseConfig {
  std::string conninfo;  // libpq key=value string or URI; never holds a password (checked)
  std::filesystem::path password_file;  // empty: libpq's own means (~/.pgpass, PGPASSWORD, ...)
  std::string query;
  std::string sku_column = "sku";  // result column names, exactly as the query returns them
  std::string quantity_column = "quantity";
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds statement_timeout{300};
  DuplicatePolicy duplicates = DuplicatePolicy::error;
  std::string location_column;  // as for CsvWarehouseConfig
  std::vector<std::string> locations;
  // Incremental reads: the query takes the last cursor as $1 (NULL on a whole read), and this
  // result column's greatest value becomes the next cursor. Empty: every read is whole.
  std::string cursor_column;

  bool operator==(const PostgresWarehouseConfig&) const = default;
};

enum class JsonPaging { page, offset, cursor, link };

// Warehouse `type: http-json`: a REST endpoint answering pages of inventory items in JSON.
// Field paths are dotted ("stock.available"); a segment of digits indexes a list.
struct HttpJsonWarehouseConfig {
  std::string url;  // https unless loopback; no userinfo (checked)
  JsonPaging paging = JsonPaging::page;
  std::string page_param = "page";
  std::string
      size_param;  // default (set by the loader): "limit" for offset paging, else "per_page"
  std::string offset_param = "offset";
  std::string cursor_param = "cursor";
  std::string next_cursor_field = "next_cursor";
  std::int64_t page_size = 100;
  std::int64_t first_page = 1;
  std::string items_field = "items";  // empty: the body itself is the list
  std::string sku_field = "sku";
  std::string quantity_field = "quantity";
  std::string location_field;  // as location_column of CsvWarehouseConfig
  std::vector<std::string> locations;
  std::string updated_since_param;  // empty: every read is a full read
  std::string updated_at_field = "updated_at";
  DuplicatePolicy duplicates = DuplicatePolicy::error;
  std::int64_t max_pages = 100000;
  HttpSourceConfig http;

  bool operator==(const HttpJsonWarehouseConfig&) const = default;
};

using WarehouseConfig =
    std::variant<CsvWarehouseConfig, PostgresWarehouseConfig, HttpJsonWarehouseConfig>;

// Store `type: csv`: a `sku,quantity` feed file, rewritten atomically.
struct CsvStoreConfig {
  std::filesystem::path path;

  bool operator==(const CsvStoreConfig&) const = default;
};
// Store `type: shopify`: the GraphQL Admin API of one shop, one location.
struct ShopifyStoreConfig {
  std::string shop;  // "acme" or "acme.myshopify.com"; normalised to the latter
  std::string api_version = "2026-10";
  std::filesystem::path access_token_file;  // may start with $CREDENTIALS_DIRECTORY/
  std::string location_id;                  // normalised to "gid://shopify/Location/<n>"
  std::string endpoint;           // overrides https://<shop>/admin/api/<version>/graphql.json
  std::filesystem::path ca_file;  // extra trust anchors; empty: system store only
  // How old the SKU -> id map may get before it is walked again; unset: never (unknown SKUs
  // are looked up instead).
  std::optional<std::chrono::seconds> catalogue_refresh;

  bool operator==(const ShopifyStoreConfig&) const = default;
};

enum class WooAuth { basic, query_string };

// A WooCommerce catalogue walk is cheap next to the lookups a stale map costs.
inline constexpr std::chrono::seconds kDefaultCatalogueRefresh{24 * 3600};

// Store `type: woocommerce`: the REST API v3 of one WordPress site.
struct WooCommerceStoreConfig {
  std::string url;  // the site, e.g. https://shop.example.com (wp-json/wc/v3 is appended)
  std::filesystem::path consumer_key_file;     // may start with $CREDENTIALS_DIRECTORY/
  std::filesystem::path consumer_secret_file;  // likewise
  WooAuth auth = WooAuth::basic;
  unsigned concurrency = 4;  // batch requests in flight at once
  std::filesystem::path ca_file;
  // How old the SKU -> id map may get before it is walked again; unset: kDefaultCatalogueRefresh.
  std::optional<std::chrono::seconds> catalogue_refresh;

  bool operator==(const WooCommerceStoreConfig&) const = default;
};

// Store `type: vendure`: the Admin API (GraphQL) of a Vendure 3 server.
struct VendureStoreConfig {
  std::string url;                      // the Admin API, e.g. https://shop.example.com/admin-api
  std::string username;                 // with password_file: the login mutation
  std::filesystem::path password_file;  // may start with $CREDENTIALS_DIRECTORY/
  std::filesystem::path api_key_file;   // or an API key (Vendure 3.6+), likewise
  std::string channel_token;            // the vendure-token header; empty: the default channel
  std::string stock_location_id;        // empty: stockOnHand on the default location
  std::filesystem::path ca_file;
  // How old the SKU -> variant map may get before it is walked again; unset:
  // kDefaultCatalogueRefresh.
  std::optional<std::chrono::seconds> catalogue_refresh;

  bool operator==(const VendureStoreConfig&) const = default;
};

// Store `type: bigcommerce`: the REST v3 Inventory API of one store, one location.
struct BigCommerceStoreConfig {
  std::string store_hash;                   // the store's permanent id, as in /stores/{hash}/v3
  std::filesystem::path access_token_file;  // may start with $CREDENTIALS_DIRECTORY/
  std::int64_t location_id = 1;             // the inventory location whose quantities are set
  std::string endpoint = "https://api.bigcommerce.com";  // the API root (a proxy, a test server)
  std::filesystem::path ca_file;                         // extra trust anchors
  // How old the SKU map may get before it is walked again; unset: kDefaultCatalogueRefresh.
  std::optional<std::chrono::seconds> catalogue_refresh;

  bool operator==(const BigCommerceStoreConfig&) const = default;
};

using StoreConfig =
    std::variant<CsvStoreConfig, ShopifyStoreConfig, WooCommerceStoreConfig, BigCommerceStoreConfig,
                 MagentoStoreConfig, MedusaStoreConfig, VendureStoreConfig>;

// One warehouse of a connection. Quantities of the same SKU in several warehouses are summed.
struct SourceConfig {
  std::string name;  // "warehouse" for the single `warehouse:` form; unique in the connection
  WarehouseConfig connector;
  std::vector<std::string> skus;          // globs: only these SKUs are read (empty: all)
  std::vector<std::string> exclude_skus;  // globs: these are not

  bool operator==(const SourceConfig&) const = default;
};

// Warehouse SKU -> store SKU. A SKU without an entry keeps its name; `include`/`exclude` globs
// choose which store SKUs the connection lists at all.
struct ListingsConfig {
  std::vector<std::pair<std::string, std::string>> map;  // sorted by warehouse SKU, unique
  std::filesystem::path file;  // where `map` was read from in part, if anywhere (for messages)
  std::vector<std::string> include;  // empty: every SKU
  std::vector<std::string> exclude;

  bool operator==(const ListingsConfig&) const = default;
};

// A store SKU sold as a set of warehouse SKUs.
struct BundleConfig {
  std::string sku;                                           // the store SKU
  std::vector<std::pair<std::string, Quantity>> components;  // warehouse SKU, units per bundle

  bool operator==(const BundleConfig&) const = default;
};

// A command run when a run fails (or, with `partial`, also when it ends partial).
struct HookConfig {
  std::vector<std::string> command;  // argv; empty: no hook
  std::chrono::seconds timeout{30};
  bool on_partial = true;

  bool operator==(const HookConfig&) const = default;
};

struct InventoryConfig {
  std::chrono::seconds schedule{3600};
  SyncKind automatic = SyncKind::smart;
  MissingSkus missing_skus = MissingSkus::keep;
  Quantity buffer = 0;                 // units held back
  int buffer_percent = 0;              // or this share of the quantity, rounded up (0-100)
  Quantity minimum_distributable = 0;  // below this after the buffer, push 0
  std::chrono::seconds repush_after{7 * 86400};   // 0: never
  std::optional<CalendarSchedule> full_schedule;  // in-daemon Full Syncs; none: only on demand

  bool operator==(const InventoryConfig&) const = default;
};

struct ConnectionConfig {
  std::string name;
  std::vector<SourceConfig> warehouses;  // at least one
  StoreConfig store;
  InventoryConfig inventory;
  ListingsConfig listings;
  std::vector<BundleConfig> bundles;  // sorted by SKU
  HookConfig on_failure;

  bool operator==(const ConnectionConfig&) const = default;
};

struct Config {
  std::filesystem::path source;  // the file it was loaded from
  DaemonConfig daemon;
  std::vector<ConnectionConfig> connections;  // in file order

  const ConnectionConfig* find(std::string_view name) const;
};

}  // namespace pb::config
