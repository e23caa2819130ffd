#include "connectors/warehouse/csv/http_csv_source.hpp"

#include <algorithm>
#include <utility>

#include "async/offload.hpp"
#include "connectors/warehouse/csv/csv_feed_parser.hpp"
#include "connectors/warehouse/csv/csv_warehouse.hpp"
#include "connectors/warehouse/http_source_client.hpp"
#include "net/url.hpp"

namespace pb::connectors {
namespace {

constexpr std::string_view kEtag = "ETag: ";
constexpr std::string_view kLastModified = "Last-Modified: ";

bool clean(std::string_view value) {
  return !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// The validators of `response`; where it has none, those of `previous` (a 304 need not repeat
// them).
HttpValidator validator_of(const net::Response& response, const HttpValidator& previous) {
  HttpValidator out = previous;
  if (const auto* etag = response.header("ETag"); etag != nullptr && clean(*etag)) out.etag = *etag;
  if (const auto* date = response.header("Last-Modified"); date != nullptr && clean(*date))
    out.last_modified = *date;
  return out;
}

}  // namespace

std::string encode_validator(const HttpValidator& validator) {
  std::string out;
  if (!validator.etag.empty()) out += std::string(kEtag) + validator.etag;
  if (!validator.last_modified.empty()) {
    if (!out.empty()) out += '\n';
    out += std::string(kLastModified) + validator.last_modified;
  }
  return out;
}

HttpValidator decode_validator(std::string_view text) {
  HttpValidator out;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.starts_with(kEtag) && clean(line.substr(kEtag.size())))
      out.etag = line.substr(kEtag.size());
    else if (line.starts_with(kLastModified) && clean(line.substr(kLastModified.size())))
      out.last_modified = line.substr(kLastModified.size());
  }
  return out;
}

boost::asio::awaitable<Feed> read_http_csv(net::HttpSession& session,
                                           boost::asio::any_io_executor pool,
                                           config::CsvWarehouseConfig config, ReadRequest request) {
  const auto url = parse_source_url(config.url);
  const std::string origin = display_url(url);
  auto load = [auth = config.http.auth, origin] {
    return HttpSourceCredentials::load(auth, origin);
  };
  HttpSourceClient client(session, origin, co_await async::offload(pool, std::move(load)));

  // No Accept-Encoding: the feed comes uncompressed, as the parser reads it.
  std::vector<net::Header> headers{{"Accept", "text/csv, text/plain;q=0.9, */*;q=0.5"}};
  const HttpValidator previous =
      request.kind == SyncKind::smart ? decode_validator(request.validator) : HttpValidator{};
  if (!previous.etag.empty()) headers.push_back({"If-None-Match", previous.etag});
  if (!previous.last_modified.empty())
    headers.push_back({"If-Modified-Since", previous.last_modified});
  net::Response response =
      co_await client.get(request_target(url), std::move(headers), "", !previous.empty());

  if (response.status == 304) {
    Feed feed;
    feed.origin = origin;
    feed.unchanged = true;
    feed.validator = encode_validator(validator_of(response, previous));
    co_return feed;
  }
  if (const auto* encoding = response.header("Content-Encoding");
      encoding != nullptr && !encoding->empty() && *encoding != "identity")
    throw WarehouseError(origin + ": the server sent the feed compressed (Content-Encoding: " +
                         encoding->substr(0, 40) + "), which was not asked for");
  const std::string validator = encode_validator(validator_of(response, {}));
  CsvFeedOptions options = csv_feed_options(config);
  options.stop = request.stop.get();
  auto parse = [body = std::move(response.body), options, origin, stop = request.stop] {
    return parse_csv_feed(std::string_view(body), options, origin);
  };
  Feed feed = co_await async::offload(std::move(pool), std::move(parse));
  feed.validator = validator;
  co_return feed;
}

}  // namespace pb::connectors
