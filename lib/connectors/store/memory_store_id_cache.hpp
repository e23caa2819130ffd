// The id cache of a connector that was given no persistent one (tests, tools,
// `beed --check-config`): a map that lives as long as the connector.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "connectors/store/store_id_cache.hpp"

namespace pb::connectors {

class MemoryStoreIdCache final : public StoreIdCache {
 public:
  bool complete() override { return completed_at_ != 0; }
  UnixMillis completed_at() override { return completed_at_; }
  std::vector<std::optional<std::string>> find(const std::vector<std::string>& skus) override;
  void replace_all(std::vector<std::pair<std::string, std::string>> entries,
                   UnixMillis now) override;
  void put(const std::vector<std::pair<std::string, std::string>>& entries) override;
  void erase(const std::vector<std::string>& skus) override;
  std::size_t size() override { return ids_.size(); }
  std::optional<std::string> walk_checkpoint() override { return checkpoint_; }
  void begin_walk(const std::string& checkpoint) override;
  void walk_step(const std::vector<std::pair<std::string, std::string>>& entries,
                 const std::string& checkpoint) override;
  void finish_walk(UnixMillis now) override;

 private:
  std::map<std::string, std::string, std::less<>> ids_;
  UnixMillis completed_at_ = 0;
  std::optional<std::string> checkpoint_;
};

// The cache `factory` opens for `fingerprint`, or a MemoryStoreIdCache when there is no factory.
std::unique_ptr<StoreIdCache> open_id_cache(const StoreIdCacheFactory& factory,
                                            std::string fingerprint);

}  // namespace pb::connectors
