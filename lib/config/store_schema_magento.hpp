// The `type: magento` store's schema table and checks (store_schema_magento.cpp), loaded by the
// store alternatives of config_schema.cpp.
#pragma once

#include "config/config.hpp"

namespace YAML {
class Node;
}

namespace pb::config {

class Reader;

// Reads a `store:` map of type magento into `out` and checks it (the URL as an endpoint; the
// codes as Magento writes them); errors name file, line and key.
void load_magento_store(StoreConfig& out, const YAML::Node& node, Reader& reader);

}  // namespace pb::config
