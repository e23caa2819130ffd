// The Medusa store section: defaults, normalisation, and errors that name the file, line and key.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <variant>

#include "config/config_loader.hpp"
#include "parse_helpers.hpp"

using namespace pb::config;

namespace {

using pb::test::parse;
using pb::test::what_of;

// Lines 1-4; the store section's keys start on line 5.
std::string with_store(std::string_view store_lines) {
  return "connections:\n"
         "  shop:\n"
         "    warehouse: {type: csv, path: /srv/feeds/shop}\n"
         "    store:\n" +
         std::string(store_lines);
}

}  // namespace

TEST_CASE("medusa: defaults and normalised values") {
  const auto c =
      parse(with_store("      type: medusa\n"
                       "      url: https://medusa.example.com/\n"
                       "      api_key_file: $CREDENTIALS_DIRECTORY/medusa-key\n"
                       "      location_id: sloc_01HZX3J0Q8W6T5E2N9R4K7M1BC\n"));
  REQUIRE(std::holds_alternative<MedusaStoreConfig>(c.connections.at(0).store));
  const auto& m = std::get<MedusaStoreConfig>(c.connections[0].store);
  CHECK(m.url == "https://medusa.example.com");
  CHECK(m.api_key_file == "$CREDENTIALS_DIRECTORY/medusa-key");
  CHECK(m.location_id == "sloc_01HZX3J0Q8W6T5E2N9R4K7M1BC");
  CHECK(m.ca_file.empty());
  CHECK(m.catalogue_refresh == std::chrono::hours(24));
}

TEST_CASE("medusa: loopback over http, ca_file and catalogue_refresh") {
  const auto c =
      parse(with_store("      type: medusa\n"
                       "      url: http://127.0.0.1:9000\n"
                       "      api_key_file: key\n"
                       "      location_id: sloc_1\n"
                       "      ca_file: /etc/ssl/private-ca.pem\n"
                       "      catalogue_refresh: 6h\n"));
  const auto& m = std::get<MedusaStoreConfig>(c.connections.at(0).store);
  CHECK(m.url == "http://127.0.0.1:9000");
  CHECK(m.ca_file == "/etc/ssl/private-ca.pem");
  CHECK(m.catalogue_refresh == std::chrono::hours(6));
}

TEST_CASE("medusa: bad values name the line and key") {
  CHECK(what_of(with_store("      type: medusa\n      url: http://medusa.example.com\n"
                           "      api_key_file: k\n      location_id: sloc_1\n"))
            .find("test.yaml:6:12: connections.shop.store.url: must be https://") == 0);
  CHECK(what_of(with_store("      type: medusa\n      url: https://m.example.com\n"
                           "      api_key_file: k\n      location_id: loc_1\n"))
            .find("test.yaml:8:20: connections.shop.store.location_id: expected a stock location "
                  "id") == 0);
  CHECK(what_of(with_store("      type: medusa\n      url: https://m.example.com\n"
                           "      api_key_file: k\n      location_id: sloc_1/../x\n"))
            .find("connections.shop.store.location_id") != std::string::npos);
  CHECK(what_of(with_store("      type: medusa\n      url: https://m.example.com\n"
                           "      location_id: sloc_1\n"))
            .find("api_key_file") != std::string::npos);
  CHECK(what_of(with_store("      type: medusa\n      url: https://m.example.com\n"
                           "      api_key_file: k\n      location_id: sloc_1\n"
                           "      api_key: sk_oops\n"))
            .find("test.yaml:9:7: connections.shop.store.api_key: unknown key") == 0);
}
