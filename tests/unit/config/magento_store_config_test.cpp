// The `type: magento` store section: defaults, normalisation, and errors that name the file,
// line and key.
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

constexpr std::string_view kMagento =
    "      type: magento\n"
    "      url: https://shop.example.com/\n"
    "      access_token_file: $CREDENTIALS_DIRECTORY/magento-token\n";

const MagentoStoreConfig& magento_of(const Config& c) {
  REQUIRE(c.connections.size() == 1);
  REQUIRE(std::holds_alternative<MagentoStoreConfig>(c.connections[0].store));
  return std::get<MagentoStoreConfig>(c.connections[0].store);
}

}  // namespace

TEST_CASE("magento: defaults and normalised values") {
  const auto c = parse(with_store(kMagento));
  const auto& m = magento_of(c);
  CHECK(m.url == "https://shop.example.com");
  CHECK(m.access_token_file == "$CREDENTIALS_DIRECTORY/magento-token");
  CHECK(m.source_code == "default");
  CHECK(m.store_code == "all");
  CHECK_FALSE(m.catalogue_refresh);  // the connector's 24h
  const auto d = parse(with_store(std::string(kMagento) + "      source_code: eu-west_1\n"
                                                          "      store_code: default\n"
                                                          "      catalogue_refresh: 6h\n"
                                                          "      ca_file: /etc/ssl/shop-ca.pem\n"));
  CHECK(magento_of(d).source_code == "eu-west_1");
  CHECK(magento_of(d).store_code == "default");
  CHECK(magento_of(d).catalogue_refresh == std::chrono::hours(6));
  CHECK(magento_of(d).ca_file == "/etc/ssl/shop-ca.pem");
  // Plain http only to this machine.
  CHECK(magento_of(parse(with_store("      type: magento\n      url: http://127.0.0.1:8080\n"
                                    "      access_token_file: t\n")))
            .url == "http://127.0.0.1:8080");
}

TEST_CASE("magento: bad values name the line and key") {
  CHECK(what_of(with_store("      type: magento\n      url: http://shop.example.com\n"
                           "      access_token_file: t\n"))
            .find("test.yaml:6:12: connections.shop.store.url: must be https://") == 0);
  CHECK(what_of(with_store("      type: magento\n      url: https://user:pw@shop.example.com\n"
                           "      access_token_file: t\n"))
            .find("test.yaml:6:12: connections.shop.store.url:") == 0);
  CHECK(what_of(with_store("      type: magento\n      url: https://shop.example.com\n"))
            .find("connections.shop.store.access_token_file: missing required key") !=
        std::string::npos);
  CHECK(what_of(with_store(std::string(kMagento) + "      store_code: a/b\n"))
            .find("test.yaml:8:19: connections.shop.store.store_code:") == 0);
  CHECK(what_of(with_store(std::string(kMagento) + "      source_code: \"x y\"\n"))
            .find("test.yaml:8:20: connections.shop.store.source_code:") == 0);
  CHECK(what_of(with_store(std::string(kMagento) + "      catalogue_refresh: 10s\n"))
            .find("test.yaml:8:26: connections.shop.store.catalogue_refresh:") == 0);
  CHECK(what_of(with_store(std::string(kMagento) + "      token_file: x\n"))
            .find("connections.shop.store.token_file") != std::string::npos);
}
