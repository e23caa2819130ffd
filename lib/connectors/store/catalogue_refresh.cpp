#include "connectors/store/catalogue_refresh.hpp"

#include "connectors/store/store.hpp"
#include "log/log.hpp"

namespace pb::connectors {

bool catalogue_is_fresh(UnixMillis walked_at, std::chrono::milliseconds refresh_after) {
  return walked_at != 0 && now_millis() - walked_at < refresh_after.count();
}

void keep_old_map_or_fail(const std::string& store, const std::string& connection,
                          UnixMillis walked_at, const std::string& failure) {
  if (walked_at == 0)
    throw StoreError(store + ": catalogue walk failed: " + failure, StoreError::Retry::no);
  log::warn(log::Fields{.connection = connection},
            "{}: catalogue walk failed; using the map of {}: {}", store, format_time(walked_at),
            failure);
}

}  // namespace pb::connectors
