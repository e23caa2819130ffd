// The `type: magento` store's configuration: Magento 2 / Adobe Commerce with Multi-Source
// Inventory, through the REST API. Its own header so that config.hpp gains one include.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace pb::config {

// Store `type: magento`: the source items of one MSI source, through /rest/{store_code}/V1.
struct MagentoStoreConfig {
  std::string url;  // e.g. https://shop.example.com (checked; no '/' at the end)
  std::filesystem::path
      access_token_file;  // the integration's access token; may be $CREDENTIALS_DIRECTORY/
  std::string source_code = "default";  // the MSI source whose quantities are set
  std::string store_code = "all";       // the store view in /rest/{store_code}/V1
  std::filesystem::path ca_file;        // extra trust anchors; empty: system store only
  // How old the SKU -> product map may get before it is walked again; unset:
  // kDefaultCatalogueRefresh.
  std::optional<std::chrono::seconds> catalogue_refresh;

  bool operator==(const MagentoStoreConfig&) const = default;
};

}  // namespace pb::config
