#include "config/config_schema.hpp"

#include <array>
#include <limits>
#include <string_view>
#include <utility>

#include "config/config_reader.hpp"
#include "config/http_schema.hpp"
#include "config/rules_loader.hpp"
#include "config/store_schema_bigcommerce.hpp"
#include "config/store_schema_magento.hpp"
#include "config/store_schema_medusa.hpp"
#include "config/store_schema_vendure.hpp"

namespace pb::config {

namespace {

using schema::file;
using schema::integer;
using schema::kDay;
using schema::text;

// The names parse_* in core/types.hpp accept; a mismatch surfaces as bad_optional_access in
// the tests, which try every choice.
constexpr std::array<std::string_view, 7> kLogLevels{"trace", "debug",    "info", "warning",
                                                     "error", "critical", "off"};
constexpr std::array<std::string_view, 2> kSyncKinds{"full", "smart"};
constexpr std::array<std::string_view, 2> kMissingSkus{"keep", "zero"};

constexpr Field<DaemonConfig> kDaemon[] = {
    {.key = "socket",
     .kind = Kind::path,
     .default_value = "/run/packagebee/beed.sock",
     .reload = Reload::restart,
     .description = "the control socket beectl connects to",
     .set = [](DaemonConfig& d, const Value& v) { d.socket = file(v); }},
    {.key = "state_dir",
     .kind = Kind::path,
     .default_value = "/var/lib/packagebee",
     .reload = Reload::restart,
     .description = "where the LMDB state of every connection lives",
     .set = [](DaemonConfig& d, const Value& v) { d.state_dir = file(v); }},
    {.key = "log_level",
     .kind = Kind::choice,
     .default_value = "info",
     .choices = kLogLevels,
     .description = "the least severe message that is logged",
     .set = [](DaemonConfig& d, const Value& v) { d.log_level = text(v); }},
    {.key = "max_concurrent_syncs",
     .kind = Kind::integer,
     .default_value = "4",
     .min = 1,
     .max = 64,
     .description = "how many connections may sync at the same time",
     .set = [](DaemonConfig& d,
               const Value& v) { d.max_concurrent_syncs = static_cast<unsigned>(integer(v)); }},
    {.key = "socket_group",
     .kind = Kind::string,
     .reload = Reload::restart,
     .description = "the group that owns the control socket (read commands); default: beed's group",
     .set = [](DaemonConfig& d, const Value& v) { d.socket_group = text(v); }},
    {.key = "admin_group",
     .kind = Kind::string,
     .description = "members may also run mutating commands (root and beed's user always may)",
     .set = [](DaemonConfig& d, const Value& v) { d.admin_group = text(v); }},
    {.key = "http",
     .kind = Kind::section,
     .reload = Reload::restart,
     .description = "beed's HTTP listener for Prometheus metrics (GET /metrics); absent: none",
     .load = [](DaemonConfig& d, const YAML::Node& node,
                Reader& reader) { load_http_listener(d.http, node, reader); }},
};

constexpr Field<CsvStoreConfig> kCsvStore[] = {
    {.key = "type", .kind = Kind::selector, .required = true, .description = "the connector"},
    {.key = "path",
     .kind = Kind::path,
     .required = true,
     .description = "the sku,quantity file the store imports; rewritten atomically",
     .set = [](CsvStoreConfig& s, const Value& v) { s.path = file(v); }},
    {.key = "catalogue_refresh",
     .kind = Kind::duration,
     .min = 60,
     .max = 365 * kDay,
     .description = "accepted on every store; a CSV store has no catalogue to walk",
     .set = [](CsvStoreConfig&, const Value&) {}},
};

constexpr std::array<std::string_view, 2> kWooAuth{"basic", "query_string"};

constexpr Field<ShopifyStoreConfig> kShopifyStore[] = {
    {.key = "type", .kind = Kind::selector, .required = true, .description = "the connector"},
    {.key = "shop",
     .kind = Kind::string,
     .required = true,
     .description = "the shop's myshopify.com domain, or just its name",
     .set = [](ShopifyStoreConfig& s, const Value& v) { s.shop = text(v); }},
    {.key = "api_version",
     .kind = Kind::string,
     .default_value = "2026-10",
     .description = "the Admin API version, YYYY-MM (2026-01 or later)",
     .set = [](ShopifyStoreConfig& s, const Value& v) { s.api_version = text(v); }},
    {.key = "access_token_file",
     .kind = Kind::secret_file,
     .required = true,
     .description = "a file holding the Admin API access token (shpat_...), read at each run",
     .set = [](ShopifyStoreConfig& s, const Value& v) { s.access_token_file = file(v); }},
    {.key = "location_id",
     .kind = Kind::string,
     .required = true,
     .description = "the location whose available quantities are set: a number or a Location gid",
     .set = [](ShopifyStoreConfig& s, const Value& v) { s.location_id = text(v); }},
    {.key = "endpoint",
     .kind = Kind::string,
     .description =
         "the GraphQL URL, for a proxy (default https://SHOP/admin/api/VERSION/graphql.json)",
     .set = [](ShopifyStoreConfig& s, const Value& v) { s.endpoint = text(v); }},
    {.key = "ca_file",
     .kind = Kind::path,
     .description = "PEM certificates trusted besides the system store",
     .set = [](ShopifyStoreConfig& s, const Value& v) { s.ca_file = file(v); }},
    {.key = "catalogue_refresh",
     .kind = Kind::duration,
     .min = 60,
     .max = 365 * kDay,
     .description = "how old the SKU -> inventory item map may get before it is walked again "
                    "(default: never; unknown SKUs are looked up)",
     .set = [](ShopifyStoreConfig& s,
               const Value& v) { s.catalogue_refresh = std::get<std::chrono::seconds>(v); }},
};

constexpr Field<WooCommerceStoreConfig> kWooCommerceStore[] = {
    {.key = "type", .kind = Kind::selector, .required = true, .description = "the connector"},
    {.key = "url",
     .kind = Kind::string,
     .required = true,
     .description = "the site's address, e.g. https://shop.example.com",
     .set = [](WooCommerceStoreConfig& s, const Value& v) { s.url = text(v); }},
    {.key = "consumer_key_file",
     .kind = Kind::secret_file,
     .required = true,
     .description = "a file holding the REST API consumer key (ck_...), read at each run",
     .set = [](WooCommerceStoreConfig& s, const Value& v) { s.consumer_key_file = file(v); }},
    {.key = "consumer_secret_file",
     .kind = Kind::secret_file,
     .required = true,
     .description = "a file holding the REST API consumer secret (cs_...), read at each run",
     .set = [](WooCommerceStoreConfig& s, const Value& v) { s.consumer_secret_file = file(v); }},
    {.key = "auth",
     .kind = Kind::choice,
     .default_value = "basic",
     .choices = kWooAuth,
     .description = "HTTP Basic, or query_string for servers that drop the Authorization header",
     .set =
         [](WooCommerceStoreConfig& s, const Value& v) {
           s.auth = text(v) == "basic" ? WooAuth::basic : WooAuth::query_string;
         }},
    {.key = "concurrency",
     .kind = Kind::integer,
     .default_value = "4",
     .min = 1,
     .max = 16,
     .description = "batch requests in flight at once",
     .set = [](WooCommerceStoreConfig& s,
               const Value& v) { s.concurrency = static_cast<unsigned>(integer(v)); }},
    {.key = "ca_file",
     .kind = Kind::path,
     .description = "PEM certificates trusted besides the system store",
     .set = [](WooCommerceStoreConfig& s, const Value& v) { s.ca_file = file(v); }},
    {.key = "catalogue_refresh",
     .kind = Kind::duration,
     .min = 60,
     .max = 365 * kDay,
     .description =
         "how old the SKU -> product/variation map may get before it is walked again (default 24h)",
     .set = [](WooCommerceStoreConfig& s,
               const Value& v) { s.catalogue_refresh = std::get<std::chrono::seconds>(v); }},
};

constexpr Alternative<StoreConfig> kStoreTypes[] = {
    {.type = "csv",
     .description = "a sku,quantity CSV file",
     .load =
         [](StoreConfig& s, const YAML::Node& node, Reader& reader) {
           CsvStoreConfig csv;
           reader.section(node, kCsvStore, csv);
           s = std::move(csv);
         }},
    {.type = "shopify",
     .description = "a Shopify shop, through the GraphQL Admin API",
     .load =
         [](StoreConfig& s, const YAML::Node& node, Reader& reader) {
           ShopifyStoreConfig shopify;
           reader.section(node, kShopifyStore, shopify);
           s = std::move(shopify);
         }},
    {.type = "woocommerce",
     .description = "a WooCommerce site, through the REST API v3",
     .load =
         [](StoreConfig& s, const YAML::Node& node, Reader& reader) {
           WooCommerceStoreConfig woo;
           reader.section(node, kWooCommerceStore, woo);
           s = std::move(woo);
         }},
    {.type = "bigcommerce",
     .description = "a BigCommerce store, through the REST v3 Inventory API",
     .load = load_bigcommerce_store},
    {.type = "magento",
     .description = "a Magento 2 / Adobe Commerce store with MSI, through the REST API",
     .load = load_magento_store},
    {.type = "medusa",
     .description = "a Medusa v2 store, through the Admin API",
     .load = load_medusa_store},
    {.type = "vendure",
     .description = "a Vendure 3 server, through the Admin API (GraphQL)",
     .load =
         [](StoreConfig& s, const YAML::Node& node, Reader& reader) {
           VendureStoreConfig vendure;
           load_vendure_store(vendure, node, reader);
           s = std::move(vendure);
         }},
};

constexpr Field<InventoryConfig> kInventory[] = {
    {.key = "schedule",
     .kind = Kind::duration,
     .default_value = "1h",
     .min = 1,
     .max = 7 * kDay,
     .description = "how often an automatic sync runs",
     .set = [](InventoryConfig& i,
               const Value& v) { i.schedule = std::get<std::chrono::seconds>(v); }},
    {.key = "automatic",
     .kind = Kind::choice,
     .default_value = "smart",
     .choices = kSyncKinds,
     .description = "what a scheduled run does: push every SKU (full) or only changes (smart)",
     .set = [](InventoryConfig& i,
               const Value& v) { i.automatic = parse_sync_kind(text(v)).value(); }},
    {.key = "missing_skus",
     .kind = Kind::choice,
     .default_value = "keep",
     .choices = kMissingSkus,
     .description = "what happens to a SKU that leaves the feed: keep its stock or push zero",
     .set = [](InventoryConfig& i,
               const Value& v) { i.missing_skus = parse_missing_skus(text(v)).value(); }},
    {.key = "buffer",
     .kind = Kind::section,
     .description = "held back from every quantity pushed: a number of units, or a percentage "
                    "(\"10%\", rounded up)",
     .load = load_buffer},
    {.key = "minimum_distributable",
     .kind = Kind::integer,
     .default_value = "0",
     .min = 0,
     .max = std::numeric_limits<std::int64_t>::max(),
     .description = "when a quantity after the buffer is below this, 0 is pushed",
     .set = [](InventoryConfig& i, const Value& v) { i.minimum_distributable = integer(v); }},
    {.key = "repush_after",
     .kind = Kind::duration,
     .default_value = "7d",
     .min = 0,
     .max = 365 * kDay,
     .description = "a SKU the store last confirmed this long ago is pushed again (0: never)",
     .set = [](InventoryConfig& i,
               const Value& v) { i.repush_after = std::get<std::chrono::seconds>(v); }},
    {.key = "full_schedule",
     .kind = Kind::section,
     .description = "when beed itself runs a Full Sync, in local time: \"01:00\", "
                    "\"Mon..Fri 01:00\", \"daily\" (systemd.time(7) calendar style)",
     .load =
         [](InventoryConfig& i, const YAML::Node& node, Reader& reader) {
           i.full_schedule.reset();
           if (!node.IsDefined() || node.IsNull()) return;
           const Value value = reader.scalar(node, Kind::string);
           auto parsed = parse_calendar(text(value));
           if (auto* error = std::get_if<std::string>(&parsed)) reader.fail(node, {}, *error);
           i.full_schedule = std::get<CalendarSchedule>(parsed);
         }},
};

// A warehouse map holds its connector's keys and, beside them, `name`, `skus` and
// `exclude_skus`, which the connection reads.
void load_source(SourceConfig& source, const YAML::Node& node, Reader& reader) {
  if (node.IsDefined() && !node.IsNull() && !node.IsMap())
    reader.fail(node, {}, "expected a map (a warehouse), got " + Reader::describe(node));
  if (const auto name = Reader::child(node, "name")) {
    const auto scope = reader.enter("name", *name);
    source.name = text(reader.scalar(*name, Kind::string));
    if (!is_valid_connection_name(source.name))
      reader.fail(*name, {}, "invalid warehouse name: use 1-64 of A-Z a-z 0-9 _ . -");
  }
  if (const auto skus = Reader::child(node, "skus")) {
    const auto scope = reader.enter("skus", *skus);
    source.skus = reader.strings(*skus, "glob");
  }
  if (const auto skus = Reader::child(node, "exclude_skus")) {
    const auto scope = reader.enter("exclude_skus", *skus);
    source.exclude_skus = reader.strings(*skus, "glob");
  }
  reader.skip_in_next_section({"name", "skus", "exclude_skus"});
  reader.select(node, "warehouse", warehouse_types(), source.connector);
}

constexpr Field<ConnectionConfig> kConnection[] = {
    {.key = "warehouse",
     .kind = Kind::section,
     .description = "where stock levels are read (or `warehouses:`, a list, to sum several)",
     .load =
         [](ConnectionConfig& c, const YAML::Node& node, Reader& reader) {
           // Called with a null node both for `warehouse:` left empty and, after the keys
           // present were read, for no `warehouse:` at all; only in the latter case can
           // `warehouses:` have filled the list (a connection with neither fails earlier).
           if ((!node.IsDefined() || node.IsNull()) && !c.warehouses.empty()) return;
           if (!c.warehouses.empty())
             reader.fail(node, {}, "give either warehouse or warehouses, not both");
           SourceConfig source;
           source.name = "warehouse";
           load_source(source, node, reader);
           c.warehouses.push_back(std::move(source));
         }},
    {.key = "warehouses",
     .kind = Kind::section,
     .description = "several warehouses whose quantities are summed per SKU",
     .load =
         [](ConnectionConfig& c, const YAML::Node& node, Reader& reader) {
           if (!node.IsDefined() || node.IsNull()) return;
           if (!c.warehouses.empty())
             reader.fail(node, {}, "give either warehouse or warehouses, not both");
           reader.items(node, "warehouse", [&](const YAML::Node& item, std::size_t i) {
             SourceConfig source;
             source.name = "warehouse-" + std::to_string(i + 1);
             load_source(source, item, reader);
             for (const SourceConfig& earlier : c.warehouses)
               if (earlier.name == source.name)
                 reader.fail(item, "name", "two warehouses are named \"" + source.name + "\"");
             c.warehouses.push_back(std::move(source));
           });
           if (c.warehouses.empty()) reader.fail(node, {}, "the list of warehouses is empty");
         }},
    {.key = "listings",
     .kind = Kind::section,
     .description = "warehouse SKU -> store SKU (map:, file:) and which SKUs are listed "
                    "(include:, exclude: globs)",
     .load = [](ConnectionConfig& c, const YAML::Node& node,
                Reader& reader) { load_listings(c.listings, node, reader); }},
    {.key = "bundles",
     .kind = Kind::section,
     .description = "store SKUs made of warehouse SKUs: BUNDLE: {COMPONENT: units per bundle}",
     .load = [](ConnectionConfig& c, const YAML::Node& node,
                Reader& reader) { load_bundles(c.bundles, node, reader); }},
    {.key = "on_failure",
     .kind = Kind::section,
     .description = "a command run with the run's summary when a run fails or ends partial",
     .load = [](ConnectionConfig& c, const YAML::Node& node,
                Reader& reader) { load_hook(c.on_failure, node, reader); }},
    {.key = "store",
     .kind = Kind::section,
     .required = true,
     .description = "where stock levels are pushed",
     .load = [](ConnectionConfig& c, const YAML::Node& node,
                Reader& reader) { reader.select(node, "store", kStoreTypes, c.store); }},
    {.key = "inventory",
     .kind = Kind::section,
     .description = "when and how stock is synced",
     .load = [](ConnectionConfig& c, const YAML::Node& node,
                Reader& reader) { reader.section(node, kInventory, c.inventory); }},
};

void load_connections(Config& config, const YAML::Node& node, Reader& reader) {
  reader.entries(node, "connection name", [&](const Reader::Entry& entry) {
    // The name ends up in LMDB keys, unit instance names and command lines.
    if (!is_valid_connection_name(entry.name))
      reader.fail(entry.key, {},
                  "invalid connection name: use 1-64 of A-Z a-z 0-9 _ . -, starting with a "
                  "letter or digit");
    ConnectionConfig connection;
    connection.name = entry.name;
    if (!Reader::child(entry.value, "warehouse") && !Reader::child(entry.value, "warehouses"))
      reader.fail(entry.key, "warehouse",
                  "missing required key \"warehouse\" (where stock levels are read; or "
                  "\"warehouses\", a list)");
    reader.section(entry.value, kConnection, connection);
    if (connection.warehouses.empty())
      reader.fail(entry.key, "warehouses", "no warehouse is configured");
    config.connections.push_back(std::move(connection));
  });
}

constexpr Field<Config> kRoot[] = {
    {.key = "daemon",
     .kind = Kind::section,
     .description = "settings of the beed process",
     .load = [](Config& c, const YAML::Node& node,
                Reader& reader) { reader.section(node, kDaemon, c.daemon); }},
    {.key = "connections",
     .kind = Kind::named_sections,
     .description = "one warehouse-to-store sync per name",
     .load = load_connections},
};

}  // namespace

std::span<const Field<Config>> root_schema() {
  return kRoot;
}

}  // namespace pb::config
