// The `type: magento` store: its keys, their defaults and the checks the table cannot express.
#include "config/store_schema_magento.hpp"

#include <string>
#include <string_view>
#include <utility>

#include "config/config_reader.hpp"
#include "config/config_schema.hpp"
#include "config/endpoint_url.hpp"

namespace pb::config {
namespace {

using schema::file;
using schema::kDay;
using schema::text;

constexpr Field<MagentoStoreConfig> kMagentoStore[] = {
    {.key = "type", .kind = Kind::selector, .required = true, .description = "the connector"},
    {.key = "url",
     .kind = Kind::string,
     .required = true,
     .description = "the store's base address, e.g. https://shop.example.com (rest/ is appended)",
     .set = [](MagentoStoreConfig& s, const Value& v) { s.url = text(v); }},
    {.key = "access_token_file",
     .kind = Kind::secret_file,
     .required = true,
     .description = "a file holding the integration's access token (sent as a Bearer token), "
                    "read at each run",
     .set = [](MagentoStoreConfig& s, const Value& v) { s.access_token_file = file(v); }},
    {.key = "source_code",
     .kind = Kind::string,
     .default_value = "default",
     .description = "the MSI source whose quantities are set",
     .set = [](MagentoStoreConfig& s, const Value& v) { s.source_code = text(v); }},
    {.key = "store_code",
     .kind = Kind::string,
     .default_value = "all",
     .description = "the store code in /rest/STORE_CODE/V1 (all: every store view)",
     .set = [](MagentoStoreConfig& s, const Value& v) { s.store_code = text(v); }},
    {.key = "ca_file",
     .kind = Kind::path,
     .description = "PEM certificates trusted besides the system store",
     .set = [](MagentoStoreConfig& s, const Value& v) { s.ca_file = file(v); }},
    {.key = "catalogue_refresh",
     .kind = Kind::duration,
     .min = 60,
     .max = 365 * kDay,
     .description =
         "how old the SKU -> product map may get before it is walked again (default 24h)",
     .set = [](MagentoStoreConfig& s,
               const Value& v) { s.catalogue_refresh = std::get<std::chrono::seconds>(v); }},
};

// Magento's store and source codes: letters, digits and '_' (a store code starts with a letter;
// a source code may also hold '-'). Checked here so that a code never needs escaping in a URL.
bool is_code(std::string_view code, std::string_view extra) {
  if (code.empty()) return false;
  for (const char c : code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// At the key's value when the file has it, else at the store section.
[[noreturn]] void fail_key(const YAML::Node& node, std::string_view key, Reader& reader,
                           std::string message) {
  const auto at = Reader::child(node, key);
  reader.fail(at.value_or(node), key, std::move(message));
}

}  // namespace

void load_magento_store(StoreConfig& out, const YAML::Node& node, Reader& reader) {
  MagentoStoreConfig magento;
  reader.section(node, kMagentoStore, magento);
  if (const auto problem = endpoint_url_problem(magento.url))
    fail_key(node, "url", reader, *problem);
  while (magento.url.ends_with('/')) magento.url.pop_back();
  if (!is_code(magento.store_code, {}))
    fail_key(node, "store_code", reader,
             "expected a Magento store code (letters, digits, '_'), e.g. default or all");
  if (!is_code(magento.source_code, "-"))
    fail_key(node, "source_code", reader,
             "expected an MSI source code (letters, digits, '_', '-'), e.g. default");
  out = std::move(magento);
}

}  // namespace pb::config
