// Store `type: medusa`: the configuration of a Medusa v2 store (the Admin API, one stock location).
// Its own header so that config.hpp only names it in the StoreConfig variant.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace pb::config {

struct MedusaStoreConfig {
  std::string url;  // the server, e.g. https://medusa.example.com (no '/' at the end)
  std::filesystem::path
      api_key_file;         // a secret API key (sk_...); may start with $CREDENTIALS_DIRECTORY/
  std::string location_id;  // the stock location whose stocked_quantity is set (sloc_...)
  std::filesystem::path ca_file;  // extra trust anchors; empty: system store only
  // How old the SKU -> inventory item map may get before it is walked again.
  std::chrono::seconds catalogue_refresh{24 * 3600};

  bool operator==(const MedusaStoreConfig&) const = default;
};

}  // namespace pb::config
