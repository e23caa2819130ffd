// The parts of a connection's configuration that are not plain key tables: warehouse SKU ->
// store SKU listings (inline and from a CSV file), bundles, the alert hook and the buffer,
// which is a number or a percentage. Each reports problems through the Reader, so they name
// file, line and key like every other configuration error.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"
#include "config/config_reader.hpp"

namespace pb::config {

void load_listings(ListingsConfig& listings, const YAML::Node& node, Reader& reader);
void load_bundles(std::vector<BundleConfig>& bundles, const YAML::Node& node, Reader& reader);
void load_hook(HookConfig& hook, const YAML::Node& node, Reader& reader);
// "5" (units) or "10%" (of each quantity, rounded up).
void load_buffer(InventoryConfig& inventory, const YAML::Node& node, Reader& reader);

}  // namespace pb::config
