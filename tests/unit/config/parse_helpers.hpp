// Parsing a configuration text in the config tests, and the error it raises.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "config/config_loader.hpp"

namespace pb::test {

inline config::Config parse(std::string_view yaml) {
  return config::parse_config(yaml, "test.yaml", "/etc/packagebee");
}

// The message of the ConfigError parsing `yaml` raises; fails the test if it parses.
inline std::string what_of(std::string_view yaml) {
  try {
    parse(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  FAIL("expected a ConfigError for:\n" << yaml);
  return {};
}

// A configuration whose connection `shop` has the warehouse section `warehouse_lines` (indented
// six spaces; they start on line 4, column 7) and a CSV store after them.
inline std::string with_warehouse(std::string_view warehouse_lines) {
  return "connections:\n"
         "  shop:\n"
         "    warehouse:\n" +
         std::string(warehouse_lines) + "    store: {type: csv, path: /srv/out/shop.csv}\n";
}

}  // namespace pb::test
