// The `store:` section of `type: medusa` (store_schema_medusa.cpp): its keys and their checks.
#pragma once

#include "config/config.hpp"

namespace YAML {
class Node;
}

namespace pb::config {

class Reader;

// Reads `node` into a MedusaStoreConfig held by `store`. Throws ConfigError naming the key:
// unknown keys, a URL that is not https:// (or http:// to loopback), a location that is not
// a stock location id.
void load_medusa_store(StoreConfig& store, const YAML::Node& node, Reader& reader);

}  // namespace pb::config
