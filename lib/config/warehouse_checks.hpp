// The checks of a `warehouse:` section that span keys or need a parser, made once the schema
// tables have read it: a bad combination is refused by --check-config and reload, not found at
// the first run. Errors name the file, line and key like the reader's.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"
#include "config/config_reader.hpp"

namespace pb::config {

// Checks (and completes defaults that depend on other keys of) every connection's warehouse.
// `root` is the document the configuration was read from. Throws ConfigError.
void check_warehouses(Config& config, const YAML::Node& root, const Reader& reader);

}  // namespace pb::config
