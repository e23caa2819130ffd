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

}  // namespace pb::test
