#include "config/store_schema_bigcommerce.hpp"

#include <string_view>
#include <utility>

#include "config/config_reader.hpp"
#include "config/config_schema.hpp"
#include "config/endpoint_url.hpp"

namespace pb::config {
namespace {

using schema::file;
using schema::integer;
using schema::kDay;
using schema::text;

constexpr Field<BigCommerceStoreConfig> kBigCommerceStore[] = {
    {.key = "type", .kind = Kind::selector, .required = true, .description = "the connector"},
    {.key = "store_hash",
     .kind = Kind::string,
     .required = true,
     .description = "the store's hash, as in https://api.bigcommerce.com/stores/HASH/v3",
     .set = [](BigCommerceStoreConfig& s, const Value& v) { s.store_hash = text(v); }},
    {.key = "access_token_file",
     .kind = Kind::secret_file,
     .required = true,
     .description = "a file holding the API account's access token (scope store_inventory), "
                    "read at each run",
     .set = [](BigCommerceStoreConfig& s, const Value& v) { s.access_token_file = file(v); }},
    {.key = "location_id",
     .kind = Kind::integer,
     .default_value = "1",
     .min = 1,
     .max = 2147483647,
     .description = "the inventory location whose quantities are set (1: the default location)",
     .set = [](BigCommerceStoreConfig& s, const Value& v) { s.location_id = integer(v); }},
    {.key = "endpoint",
     .kind = Kind::string,
     .default_value = "https://api.bigcommerce.com",
     .description = "the API root; requests go to ENDPOINT/stores/HASH/v3/... (a proxy, a test "
                    "server)",
     .set = [](BigCommerceStoreConfig& s, const Value& v) { s.endpoint = text(v); }},
    {.key = "ca_file",
     .kind = Kind::path,
     .description = "PEM certificates trusted besides the system store",
     .set = [](BigCommerceStoreConfig& s, const Value& v) { s.ca_file = file(v); }},
    {.key = "catalogue_refresh",
     .kind = Kind::duration,
     .min = 60,
     .max = 365 * kDay,
     .description = "how old the map of the store's SKUs may get before it is walked again "
                    "(default 24h)",
     .set = [](BigCommerceStoreConfig& s,
               const Value& v) { s.catalogue_refresh = std::get<std::chrono::seconds>(v); }},
};

// The node of `key` in the section (for the line of an error), or the section itself.
YAML::Node node_of(const YAML::Node& section, std::string_view key) {
  return Reader::child(section, key).value_or(section);
}

}  // namespace

void load_bigcommerce_store(StoreConfig& out, const YAML::Node& node, Reader& reader) {
  BigCommerceStoreConfig store;
  reader.section(node, kBigCommerceStore, store);
  // A hash goes into the request path unescaped: BigCommerce's are lower-case letters and digits.
  if (store.store_hash.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") !=
      std::string::npos)
    reader.fail(node_of(node, "store_hash"), "store_hash",
                "expected the store hash: lower-case letters and digits (as in "
                "/stores/HASH/v3), not a URL or a store name");
  if (const auto problem = endpoint_url_problem(store.endpoint))
    reader.fail(node_of(node, "endpoint"), "endpoint", *problem);
  while (store.endpoint.ends_with('/')) store.endpoint.pop_back();
  out = std::move(store);
}

}  // namespace pb::config
