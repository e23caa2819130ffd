// The validated, typed configuration of beed. Produced only by the loader
// (config_loader.hpp), so every value here has passed the schema's checks.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "core/types.hpp"

namespace pb::config {

struct DaemonConfig {
  std::filesystem::path socket = "/run/packagebee/beed.sock";
  std::filesystem::path state_dir = "/var/lib/packagebee";
  std::string log_level = "info";  // trace|debug|info|warning|error|critical|off
  unsigned max_concurrent_syncs = 4;
  std::string socket_group;  // empty: beed's own group
  std::string admin_group;   // empty: only root and beed's user may mutate

  bool operator==(const DaemonConfig&) const = default;
};

// Warehouse `type: csv`: one file, or a directory whose newest file matching
// `pattern` is the feed.
struct CsvWarehouseConfig {
  std::filesystem::path path;
  std::string pattern = "*.csv";  // used only when `path` is a directory
  std::string sku_column = "sku";
  std::string quantity_column = "quantity";
  char delimiter = ',';
  DuplicatePolicy duplicates = DuplicatePolicy::error;

  bool operator==(const CsvWarehouseConfig&) const = default;
};
using WarehouseConfig = std::variant<CsvWarehouseConfig>;

// Store `type: csv`: a `sku,quantity` feed file, rewritten atomically.
struct CsvStoreConfig {
  std::filesystem::path path;

  bool operator==(const CsvStoreConfig&) const = default;
};
using StoreConfig = std::variant<CsvStoreConfig>;

struct InventoryConfig {
  std::chrono::seconds schedule{3600};
  SyncKind automatic = SyncKind::smart;
  MissingSkus missing_skus = MissingSkus::keep;
  Quantity buffer = 0;

  bool operator==(const InventoryConfig&) const = default;
};

struct ConnectionConfig {
  std::string name;
  WarehouseConfig warehouse;
  StoreConfig store;
  InventoryConfig inventory;

  bool operator==(const ConnectionConfig&) const = default;
};

struct Config {
  std::filesystem::path source;  // the file it was loaded from
  DaemonConfig daemon;
  std::vector<ConnectionConfig> connections;  // in file order

  const ConnectionConfig* find(std::string_view name) const;
};

}  // namespace pb::config
