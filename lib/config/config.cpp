#include "config/config.hpp"

#include <algorithm>

namespace pb::config {

const ConnectionConfig* Config::find(std::string_view name) const {
  const auto it = std::find_if(connections.begin(), connections.end(),
                               [&](const ConnectionConfig& c) { return c.name == name; });
  return it == connections.end() ? nullptr : &*it;
}

}  // namespace pb::config
