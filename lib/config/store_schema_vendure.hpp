// The `store: {type: vendure}` section: its schema table and checks (store_schema_vendure.cpp).
#pragma once

namespace YAML {
class Node;
}

namespace pb::config {

class Reader;
struct VendureStoreConfig;

// Reads the section at `node` into `out`; fails through `reader` (file, line, key) on an unknown
// key, a bad URL, or credentials given both ways or neither.
void load_vendure_store(VendureStoreConfig& out, const YAML::Node& node, Reader& reader);

}  // namespace pb::config
