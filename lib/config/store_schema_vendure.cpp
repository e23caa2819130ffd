#include "config/store_schema_vendure.hpp"

#include "config/config.hpp"
#include "config/config_reader.hpp"
#include "config/config_schema.hpp"
#include "config/endpoint_url.hpp"

namespace pb::config {
namespace {

using schema::file;
using schema::kDay;
using schema::text;

constexpr Field<VendureStoreConfig> kVendureStore[] = {
    {.key = "type", .kind = Kind::selector, .required = true, .description = "the connector"},
    {.key = "url",
     .kind = Kind::string,
     .required = true,
     .description = "the Admin API's address, e.g. https://shop.example.com/admin-api",
     .set = [](VendureStoreConfig& s, const Value& v) { s.url = text(v); }},
    {.key = "username",
     .kind = Kind::string,
     .description = "an administrator to log in as (with password_file)",
     .set = [](VendureStoreConfig& s, const Value& v) { s.username = text(v); }},
    {.key = "password_file",
     .kind = Kind::secret_file,
     .description = "a file holding that administrator's password, read at each run",
     .set = [](VendureStoreConfig& s, const Value& v) { s.password_file = file(v); }},
    {.key = "api_key_file",
     .kind = Kind::secret_file,
     .description = "instead of username and password: a file holding an API key (Vendure 3.6+, "
                    "tokenMethod with 'api-key'), read at each run",
     .set = [](VendureStoreConfig& s, const Value& v) { s.api_key_file = file(v); }},
    {.key = "channel_token",
     .kind = Kind::string,
     .description = "the channel's token, sent as vendure-token (default: the default channel)",
     .set = [](VendureStoreConfig& s, const Value& v) { s.channel_token = text(v); }},
    {.key = "stock_location_id",
     .kind = Kind::string,
     .description = "the stock location whose stockOnHand is set (default: the channel's "
                    "default location)",
     .set = [](VendureStoreConfig& s, const Value& v) { s.stock_location_id = text(v); }},
    {.key = "ca_file",
     .kind = Kind::path,
     .description = "PEM certificates trusted besides the system store",
     .set = [](VendureStoreConfig& s, const Value& v) { s.ca_file = file(v); }},
    {.key = "catalogue_refresh",
     .kind = Kind::duration,
     .min = 60,
     .max = 365 * kDay,
     .description = "how old the SKU -> variant map may get before it is walked again "
                    "(default 24h)",
     .set = [](VendureStoreConfig& s,
               const Value& v) { s.catalogue_refresh = std::get<std::chrono::seconds>(v); }},
};

YAML::Node at_key(const YAML::Node& node, const char* key) {
  return Reader::child(node, key).value_or(node);
}

}  // namespace

void load_vendure_store(VendureStoreConfig& out, const YAML::Node& node, Reader& reader) {
  reader.section(node, kVendureStore, out);
  if (const auto problem = endpoint_url_problem(out.url))
    reader.fail(at_key(node, "url"), "url", *problem);
  while (out.url.ends_with('/')) out.url.pop_back();

  const bool password = !out.password_file.empty();
  const bool user = !out.username.empty();
  const bool key = !out.api_key_file.empty();
  if (key && (password || user))
    reader.fail(at_key(node, "api_key_file"), "api_key_file",
                "give either api_key_file or username and password_file, not both");
  if (!key && !password && !user)
    reader.fail(node, "password_file",
                "missing credentials: give username and password_file, or api_key_file");
  if (user && !password)
    reader.fail(at_key(node, "username"), "password_file",
                "username needs password_file (a file holding the password)");
  if (password && !user)
    reader.fail(at_key(node, "password_file"), "username",
                "password_file needs username (the administrator to log in as)");
}

}  // namespace pb::config
