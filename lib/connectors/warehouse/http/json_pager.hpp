// Which page a `type: http-json` warehouse asks for next, and when it stops: page numbers,
// offsets, cursors from the body, or Link: rel="next" headers, bounded by max_pages. Pure: the
// warehouse sends the requests.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "config/config.hpp"
#include "connectors/warehouse/http/json_feed_builder.hpp"
#include "net/http_session.hpp"
#include "net/url.hpp"

namespace pb::connectors {

class JsonPager {
 public:
  // `url` is the configured endpoint (its query is kept on every request built here);
  // `updated_since`, when not empty, is sent as updated_since_param. `origin` starts messages.
  JsonPager(const config::HttpJsonWarehouseConfig& config, net::Url url, std::string origin,
            std::string updated_since);

  // The target of the current page, and its number (from 1).
  const std::string& target() const { return target_; }
  std::uint64_t page() const { return page_; }

  // After the current page answered `page` with `headers`: moves to the next page and returns
  // true, or returns false when that page was the last (it was empty; shorter than page_size
  // for page and offset paging; had no next cursor; had no Link rel="next"). Throws
  // WarehouseError when the next page would pass max_pages, when a cursor or link comes back a
  // second time (a server that loops), and when a link points to another scheme, host or port
  // (the credentials would go there) or cannot be followed.
  bool advance(const JsonPage& page, const std::vector<net::Header>& headers);

 private:
  std::string build_target() const;
  bool next_link(const std::vector<net::Header>& headers);

  config::JsonPaging paging_;
  std::string page_param_;
  std::string size_param_;
  std::string offset_param_;
  std::string cursor_param_;
  std::string updated_since_param_;
  std::int64_t page_size_;
  std::int64_t first_page_;
  std::uint64_t max_pages_;
  net::Url url_;
  std::string origin_;
  std::string updated_since_;

  std::uint64_t page_ = 1;
  std::uint64_t offset_ = 0;
  std::string cursor_;
  std::string target_;
  std::unordered_set<std::string> seen_;  // cursors or link targets already followed
};

}  // namespace pb::connectors
