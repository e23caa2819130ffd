#include "config/store_schema_medusa.hpp"

#include <yaml-cpp/yaml.h>

#include <string>
#include <utility>

#include "config/config_reader.hpp"
#include "config/config_schema.hpp"
#include "config/endpoint_url.hpp"

namespace pb::config {
namespace {

using schema::file;
using schema::kDay;
using schema::text;

constexpr Field<MedusaStoreConfig> kMedusaStore[] = {
    {.key = "type", .kind = Kind::selector, .required = true, .description = "the connector"},
    {.key = "url",
     .kind = Kind::string,
     .required = true,
     .description = "the Medusa server's address, e.g. https://medusa.example.com",
     .set = [](MedusaStoreConfig& s, const Value& v) { s.url = text(v); }},
    {.key = "api_key_file",
     .kind = Kind::secret_file,
     .required = true,
     .description = "a file holding a secret API key (sk_...), read at each run",
     .set = [](MedusaStoreConfig& s, const Value& v) { s.api_key_file = file(v); }},
    {.key = "location_id",
     .kind = Kind::string,
     .required = true,
     .description = "the stock location whose stocked quantity is set (sloc_...)",
     .set = [](MedusaStoreConfig& s, const Value& v) { s.location_id = text(v); }},
    {.key = "ca_file",
     .kind = Kind::path,
     .description = "PEM certificates trusted besides the system store",
     .set = [](MedusaStoreConfig& s, const Value& v) { s.ca_file = file(v); }},
    {.key = "catalogue_refresh",
     .kind = Kind::duration,
     .default_value = "24h",
     .min = 60,
     .max = 365 * kDay,
     .description = "how old the SKU -> inventory item map may get before it is walked again",
     .set = [](MedusaStoreConfig& s,
               const Value& v) { s.catalogue_refresh = std::get<std::chrono::seconds>(v); }},
};

// Medusa's ids are a prefix, '_' and a ULID; the id goes into a URL path, so nothing else passes.
bool stock_location_id(const std::string& id) {
  constexpr std::string_view kPrefix = "sloc_";
  if (!id.starts_with(kPrefix) || id.size() == kPrefix.size() || id.size() > 64) return false;
  for (const char c : id.substr(kPrefix.size()))
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  return true;
}

YAML::Node key_node(const YAML::Node& node, std::string_view key) {
  return Reader::child(node, key).value_or(YAML::Node());
}

}  // namespace

void load_medusa_store(StoreConfig& store, const YAML::Node& node, Reader& reader) {
  MedusaStoreConfig medusa;
  reader.section(node, kMedusaStore, medusa);
  if (const auto problem = endpoint_url_problem(medusa.url))
    reader.fail(key_node(node, "url"), "url", *problem);
  while (medusa.url.ends_with('/')) medusa.url.pop_back();
  if (!stock_location_id(medusa.location_id))
    reader.fail(key_node(node, "location_id"), "location_id",
                "expected a stock location id: sloc_ followed by letters and digits "
                "(Settings > Locations in the Medusa admin, or GET /admin/stock-locations)");
  store = std::move(medusa);
}

}  // namespace pb::config
