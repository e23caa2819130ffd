// A `type: csv` warehouse given as `url`: the feed fetched over HTTP(S), conditionally (ETag /
// Last-Modified) on a Smart Sync, so an unchanged feed costs one request and no parsing, and
// parsed by the same rules as a local file (csv_feed_parser.hpp) on the worker pool.
#pragma once

#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/warehouse/feed.hpp"
#include "connectors/warehouse/warehouse.hpp"
#include "net/http_session.hpp"

namespace pb::connectors {

// What Feed::validator holds for a feed read over HTTP: the response's validators, which the
// next conditional request sends back.
struct HttpValidator {
  std::string etag;           // sent as If-None-Match
  std::string last_modified;  // sent as If-Modified-Since

  bool empty() const { return etag.empty() && last_modified.empty(); }
  bool operator==(const HttpValidator&) const = default;
};

// "ETag: <value>\nLast-Modified: <value>", either line left out when empty; "" for neither.
std::string encode_validator(const HttpValidator& validator);
// The reverse; lines it does not know, and values with control characters, are ignored (a
// validator stored by another version must not break a read: it costs a full download at most).
HttpValidator decode_validator(std::string_view text);

// GETs config.url through `session` (made for its origin) and parses it. On a Smart Sync with a
// validator in `request`, asks conditionally and returns Feed{unchanged = true} on a 304 without
// reading anything; a Full Sync always downloads. Feed::validator is the response's. Throws
// WarehouseError. Blocking work (secret files, parsing) runs on `pool`.
boost::asio::awaitable<Feed> read_http_csv(net::HttpSession& session,
                                           boost::asio::any_io_executor pool,
                                           config::CsvWarehouseConfig config, ReadRequest request);

}  // namespace pb::connectors
