#include "connectors/warehouse/http/http_json_warehouse.hpp"

#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "async/offload.hpp"
#include "connectors/warehouse/http/json_feed_builder.hpp"
#include "connectors/warehouse/http/json_pager.hpp"
#include "connectors/warehouse/http/rfc3339_time.hpp"
#include "connectors/warehouse/http_source_client.hpp"

namespace pb::connectors {
namespace {

// A page is a few hundred items: the default cap of a session (64 MiB) is far above it.
constexpr std::size_t kMaxPageBytes = std::size_t{64} << 20;

boost::asio::awaitable<Feed> read_pages(std::shared_ptr<net::HttpSession> session,
                                        boost::asio::any_io_executor pool,
                                        config::HttpJsonWarehouseConfig config,
                                        ReadRequest request) {
  const auto url = parse_source_url(config.url);
  const std::string origin = display_url(url);
  auto load = [auth = config.http.auth, origin] {
    return HttpSourceCredentials::load(auth, origin);
  };
  HttpSourceClient client(*session, origin, co_await async::offload(pool, load));

  const bool incremental = !config.updated_since_param.empty() && request.kind == SyncKind::smart &&
                           !request.cursor.empty();
  JsonPager pager(config, url, origin, incremental ? request.cursor : std::string());
  // Used on the pool, one page at a time, while this coroutine waits: never by two threads.
  std::optional<JsonFeedBuilder> built;
  try {
    built.emplace(config, origin);
  } catch (const std::invalid_argument& e) {
    throw WarehouseError(origin + ": " + e.what());  // the configuration loader refuses these
  }
  JsonFeedBuilder& builder = *built;
  for (;;) {
    std::vector<net::Header> headers{{"Accept", "application/json"}};
    net::Response response = co_await client.get(pager.target(), std::move(headers),
                                                 "page " + std::to_string(pager.page()));
    auto parse = [&builder, body = std::move(response.body), page = pager.page()] {
      return builder.add_page(body, page);
    };
    const JsonPage page = co_await async::offload(pool, std::move(parse));
    if (!pager.advance(page, response.headers)) break;
  }
  const auto newest = builder.newest_update();
  auto finish = [&builder] { return builder.finish(); };
  Feed feed = co_await async::offload(pool, std::move(finish));
  feed.delta = incremental;
  feed.cursor = newest ? format_rfc3339_utc(*newest) : request.cursor;
  co_return feed;
}

}  // namespace

boost::asio::awaitable<Feed> HttpJsonWarehouse::read(boost::asio::any_io_executor pool,
                                                     ReadRequest request) {
  // Copies, so that nothing below refers to this warehouse, which a reload may replace.
  auto config = config_;
  auto session = session_;
  if (!session)
    session = make_source_session(co_await boost::asio::this_coro::executor,
                                  parse_source_url(config.url), config.http, kMaxPageBytes);
  co_return co_await read_pages(std::move(session), std::move(pool), std::move(config),
                                std::move(request));
}

std::string HttpJsonWarehouse::describe() const {
  try {
    return "http-json " + display_url(parse_source_url(config_.url));
  } catch (const WarehouseError&) {
    return "http-json (an invalid URL)";  // the configuration loader refuses it
  }
}

}  // namespace pb::connectors
