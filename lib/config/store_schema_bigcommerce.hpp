// The `store: {type: bigcommerce}` section: its table of keys and the checks that need more than
// one key's value (kept out of config_schema.cpp so each platform's keys live in their own file).
#pragma once

#include "config/config.hpp"

namespace YAML {
class Node;
}

namespace pb::config {

class Reader;

// Reads a `type: bigcommerce` store section into `out`; errors name file, line and key.
void load_bigcommerce_store(StoreConfig& out, const YAML::Node& node, Reader& reader);

}  // namespace pb::config
