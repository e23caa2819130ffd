// The Shopify and WooCommerce store sections: defaults, normalisation, and
// errors that name the file, line and key.
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

constexpr std::string_view kShopify =
    "      type: shopify\n"
    "      shop: acme\n"
    "      access_token_file: secrets/shopify-token\n"
    "      location_id: 42\n";

constexpr std::string_view kWoo =
    "      type: woocommerce\n"
    "      url: https://shop.example.com/\n"
    "      consumer_key_file: $CREDENTIALS_DIRECTORY/woo-key\n"
    "      consumer_secret_file: /etc/packagebee/woo-secret\n";

const ShopifyStoreConfig& shopify_of(const Config& c) {
  REQUIRE(c.connections.size() == 1);
  REQUIRE(std::holds_alternative<ShopifyStoreConfig>(c.connections[0].store));
  return std::get<ShopifyStoreConfig>(c.connections[0].store);
}

const WooCommerceStoreConfig& woo_of(const Config& c) {
  REQUIRE(c.connections.size() == 1);
  REQUIRE(std::holds_alternative<WooCommerceStoreConfig>(c.connections[0].store));
  return std::get<WooCommerceStoreConfig>(c.connections[0].store);
}

}  // namespace

TEST_CASE("shopify: defaults and normalised values") {
  const auto c = parse(with_store(kShopify));
  const auto& s = shopify_of(c);
  CHECK(s.shop == "acme.myshopify.com");
  CHECK(s.api_version == "2026-10");
  CHECK(s.access_token_file == "/etc/packagebee/secrets/shopify-token");
  CHECK(s.location_id == "gid://shopify/Location/42");
  CHECK(s.endpoint.empty());
  CHECK(s.ca_file.empty());
}

TEST_CASE("shopify: explicit domain, gid, endpoint on loopback, version, ca_file") {
  const auto c =
      parse(with_store("      type: shopify\n"
                       "      shop: acme-2.myshopify.com\n"
                       "      api_version: 2026-04\n"
                       "      access_token_file: $CREDENTIALS_DIRECTORY/shopify\n"
                       "      location_id: gid://shopify/Location/7\n"
                       "      endpoint: http://127.0.0.1:8080/admin/api/2026-04/graphql.json\n"
                       "      ca_file: ca.pem\n"));
  const auto& s = shopify_of(c);
  CHECK(s.shop == "acme-2.myshopify.com");
  CHECK(s.api_version == "2026-04");
  // Kept as written: expanded from the environment when the token is read.
  CHECK(s.access_token_file == "$CREDENTIALS_DIRECTORY/shopify");
  CHECK(s.location_id == "gid://shopify/Location/7");
  CHECK(s.endpoint == "http://127.0.0.1:8080/admin/api/2026-04/graphql.json");
  CHECK(s.ca_file == "/etc/packagebee/ca.pem");
}

TEST_CASE("shopify: bad values name the line and key") {
  CHECK(what_of(with_store("      type: shopify\n      shop: acme\n      location_id: 1\n")) ==
        "test.yaml:5:7: connections.shop.store.access_token_file: missing required key "
        "\"access_token_file\" (a file holding the Admin API access token (shpat_...), read at "
        "each run)");
  CHECK(what_of(with_store(std::string(kShopify) + "      api_version: 2025-10\n")) ==
        "test.yaml:9:20: connections.shop.store.api_version: versions before 2026-01 lack "
        "changeFromQuantity and @idempotent; use 2026-01 or later");
  CHECK(what_of(with_store(std::string(kShopify) + "      api_version: 2026-11\n")) ==
        "test.yaml:9:20: connections.shop.store.api_version: expected a release "
        "YYYY-01|04|07|10 (e.g. 2026-10) or unstable");
  CHECK(what_of(with_store(std::string(kShopify) + "      endpoint: http://shop.example.com/x\n"))
            .find("test.yaml:9:17: connections.shop.store.endpoint: must be https://") == 0);
  CHECK(what_of(with_store(std::string(kShopify) + "      endpoint: https://user:pw@h/x\n")) ==
        "test.yaml:9:17: connections.shop.store.endpoint: not a usable URL: userinfo is not "
        "allowed in the URL: put credentials in a file");
  CHECK(what_of(with_store("      type: shopify\n      shop: www.acme.com\n"
                           "      access_token_file: t\n      location_id: 1\n")) ==
        "test.yaml:6:13: connections.shop.store.shop: expected the shop's NAME.myshopify.com "
        "domain (not a custom domain), or NAME");
  CHECK(what_of(with_store("      type: shopify\n      shop: acme\n"
                           "      access_token_file: t\n      location_id: store-1\n")) ==
        "test.yaml:8:20: connections.shop.store.location_id: expected a location number or "
        "gid://shopify/Location/NUMBER");
  CHECK(what_of(with_store("      type: shopify\n      shop: acme\n"
                           "      access_token_file: $CREDENTIALS_DIRECTORY/\n"
                           "      location_id: 1\n"))
            .find("connections.shop.store.access_token_file: $CREDENTIALS_DIRECTORY/ must be "
                  "followed by a credential name") != std::string::npos);
}

TEST_CASE("woocommerce: defaults and normalised values") {
  const auto c = parse(with_store(kWoo));
  const auto& w = woo_of(c);
  CHECK(w.url == "https://shop.example.com");
  CHECK(w.consumer_key_file == "$CREDENTIALS_DIRECTORY/woo-key");
  CHECK(w.consumer_secret_file == "/etc/packagebee/woo-secret");
  CHECK(w.auth == WooAuth::basic);
  CHECK(w.concurrency == 4);
  const auto q = parse(with_store(std::string(kWoo) + "      auth: query_string\n"
                                                      "      concurrency: 8\n"));
  CHECK(woo_of(q).auth == WooAuth::query_string);
  CHECK(woo_of(q).concurrency == 8);
}

TEST_CASE("woocommerce: bad values name the line and key") {
  CHECK(what_of(with_store("      type: woocommerce\n      url: http://shop.example.com\n"
                           "      consumer_key_file: k\n      consumer_secret_file: s\n"))
            .find("test.yaml:6:12: connections.shop.store.url: must be https://") == 0);
  CHECK(what_of(with_store("      type: woocommerce\n      url: shop.example.com\n"
                           "      consumer_key_file: k\n      consumer_secret_file: s\n")) ==
        "test.yaml:6:12: connections.shop.store.url: not a usable URL: not an absolute URL (no "
        "scheme://)");
  CHECK(what_of(with_store(std::string(kWoo) + "      concurrency: 0\n"))
            .find("test.yaml:9:20: connections.shop.store.concurrency:") == 0);
  CHECK(what_of(with_store(std::string(kWoo) + "      auth: oauth\n"))
            .find("test.yaml:9:13: connections.shop.store.auth:") == 0);
  CHECK(what_of(with_store(std::string(kWoo) + "      consumer_token: x\n"))
            .find("connections.shop.store.consumer_token") != std::string::npos);
}

TEST_CASE("catalogue_refresh: a duration on every store, errors naming the line and key") {
  CHECK_FALSE(woo_of(parse(with_store(kWoo))).catalogue_refresh);          // the connector's 24h
  CHECK_FALSE(shopify_of(parse(with_store(kShopify))).catalogue_refresh);  // never
  CHECK(woo_of(parse(with_store(std::string(kWoo) + "      catalogue_refresh: 6h\n")))
            .catalogue_refresh == std::chrono::hours(6));
  CHECK(shopify_of(parse(with_store(std::string(kShopify) + "      catalogue_refresh: 7d\n")))
            .catalogue_refresh == std::chrono::hours(7 * 24));
  // A CSV store accepts it (one key for every store) and has nothing to walk.
  CHECK_NOTHROW(
      parse(with_store("      type: csv\n      path: /srv/out/shop.csv\n"
                       "      catalogue_refresh: 24h\n")));
  CHECK(what_of(with_store(std::string(kWoo) + "      catalogue_refresh: soon\n"))
            .find("test.yaml:9:26: connections.shop.store.catalogue_refresh:") == 0);
  CHECK(what_of(with_store(std::string(kShopify) + "      catalogue_refresh: 10s\n"))
            .find("test.yaml:9:26: connections.shop.store.catalogue_refresh:") == 0);
}
