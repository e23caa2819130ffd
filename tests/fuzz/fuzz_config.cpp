// libFuzzer target for the YAML configuration loader: any text either yields a
// Config that honours the schema's guarantees or throws ConfigError. Any other
// exception escaping is a bug, so only ConfigError is caught.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "config/config_loader.hpp"
#include "core/types.hpp"

namespace {

// What config.hpp promises of a loaded Config; a broken promise is a bug in
// the schema or the reader, not in the input.
void check(const pb::config::Config& config) {
  if (config.daemon.max_concurrent_syncs < 1 || config.daemon.max_concurrent_syncs > 64)
    __builtin_trap();
  for (const auto& connection : config.connections) {
    if (!pb::is_valid_connection_name(connection.name)) __builtin_trap();
    if (connection.inventory.schedule.count() < 1) __builtin_trap();
    if (connection.inventory.buffer < 0) __builtin_trap();
    for (const auto& other : config.connections)
      if (&other != &connection && other.name == connection.name) __builtin_trap();
    if (connection.inventory.buffer_percent < 0 || connection.inventory.buffer_percent > 100)
      __builtin_trap();
    if (connection.warehouses.empty()) __builtin_trap();
    for (const auto& source : connection.warehouses) {
      for (const auto& other : connection.warehouses)
        if (&other != &source && other.name == source.name) __builtin_trap();
      const auto* csv = std::get_if<pb::config::CsvWarehouseConfig>(&source.connector);
      if (csv == nullptr) continue;
      const char d = csv->delimiter;
      if (d == '"' || d == '\r' || d == '\n' || d == '\0') __builtin_trap();
      // Exactly one of a path (absolute once loaded) and a URL.
      if (csv->path.empty() == csv->url.empty()) __builtin_trap();
      if (!csv->path.empty() && csv->path.is_relative()) __builtin_trap();
    }
    for (std::size_t i = 1; i < connection.listings.map.size(); ++i)
      if (!(connection.listings.map[i - 1].first < connection.listings.map[i].first))
        __builtin_trap();
    for (const auto& bundle : connection.bundles)
      for (const auto& [component, units] : bundle.components)
        if (units < 1) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    check(pb::config::parse_config(text, "fuzz.yaml", "/tmp"));
  } catch (const pb::config::ConfigError& e) {
    // Formatting the message is part of the error path under test.
    if (e.what()[0] == '\0' || e.line() < 0 || e.column() < 0) __builtin_trap();
  }
  return 0;
}
