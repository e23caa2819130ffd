// The catalogue walk as a Shopify bulk operation (walk_bulk, shopify_catalogue.hpp):
// start or resume the operation, wait for it, and stream its JSONL result into the
// id map in Range requests, each chunk committed with the byte offset it reached.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "async/offload.hpp"
#include "connectors/store/shopify/shopify_bulk.hpp"
#include "connectors/store/shopify/shopify_catalogue.hpp"
#include "log/log.hpp"

namespace pb::connectors::shopify {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// Polls start a second apart and slow to every 5 s: a poll costs a point, and a
// catalogue of 100,000 variants takes Shopify a minute or more.
constexpr milliseconds kFirstPoll{1000};
constexpr milliseconds kMaxPoll{5000};
constexpr milliseconds kLogEvery{30'000};
// The result is read 4 MiB a request: about 35,000 variants a chunk and a transaction.
constexpr std::uint64_t kChunkBytes = std::uint64_t{4} << 20;
constexpr int kDownloadAttempts = 4;
// How long to wait for another bulk query of the app to end before paging instead.
constexpr milliseconds kMaxWaitForOther{15 * 60 * 1000};

asio::awaitable<void> sleep_watching(Walk& walk, milliseconds delay) {
  auto timer = asio::steady_timer(co_await asio::this_coro::executor);
  // In slices, so that a stop ends the wait within a quarter of a second.
  for (milliseconds left = delay; left.count() > 0; left -= milliseconds(250)) {
    stop_if_asked(walk);
    timer.expires_after(std::min(left, milliseconds(250)));
    co_await timer.async_wait(asio::use_awaitable);
  }
  stop_if_asked(walk);
}

std::string checkpoint_of(const std::string& id, std::uint64_t offset) {
  return "bulk " + id + " " + std::to_string(offset);
}

// "bulk <gid> <offset>" -> (gid, offset); ("", 0) for "bulk" alone.
std::pair<std::string, std::uint64_t> parse_checkpoint(const std::string& checkpoint) {
  const auto first = checkpoint.find(' ');
  if (first == std::string::npos) return {"", 0};
  const auto second = checkpoint.find(' ', first + 1);
  std::uint64_t offset = 0;
  if (second != std::string::npos)
    std::from_chars(checkpoint.data() + second + 1, checkpoint.data() + checkpoint.size(), offset);
  return {checkpoint.substr(first + 1, second == std::string::npos ? second : second - first - 1),
          offset};
}

std::string squeeze(std::string_view text) {
  std::string out;
  for (const char c : text)
    if (c != ' ' && c != '\n' && c != '\t' && c != '\r') out += c;
  return out;
}

template <typename Read>
auto read_or_throw(Read read) {
  try {
    return read();
  } catch (const std::runtime_error& e) {
    throw StoreError(e.what(), StoreError::Retry::no);
  }
}

asio::awaitable<std::optional<BulkOperation>> poll(Walk& walk, const std::string& id) {
  boost::json::object variables{{"id", id}};
  auto body = request_body(kBulkPollQuery, std::move(variables));
  const auto reply = co_await walk.client.call(CallKind::bulk_operation, std::move(body));
  const auto* data = reply.data.if_object();
  const auto* node = data ? data->if_contains("bulkOperation") : nullptr;
  if (node == nullptr) co_return std::nullopt;
  co_return read_or_throw([&] { return read_bulk_operation(*node); });
}

asio::awaitable<std::optional<BulkOperation>> current(Walk& walk) {
  auto body = request_body(kCurrentBulkQuery, {});
  const auto reply = co_await walk.client.call(CallKind::bulk_operation, std::move(body));
  const auto* data = reply.data.if_object();
  const auto* node = data ? data->if_contains("currentBulkOperation") : nullptr;
  if (node == nullptr) co_return std::nullopt;
  co_return read_or_throw([&] { return read_bulk_operation(*node); });
}

// Polls `op` until it ends, with a growing interval, showing objectCount as progress.
asio::awaitable<BulkOperation> wait_for(Walk& walk, BulkOperation op) {
  milliseconds delay = kFirstPoll;
  auto logged = std::chrono::steady_clock::now();
  while (!op.finished()) {
    if (walk.context.progress) walk.context.progress->mapping(op.object_count, 0);
    if (std::chrono::steady_clock::now() - logged >= kLogEvery) {  // the journal shows it move
      pb::log::info(walk.fields, "Shopify bulk operation {}: {}, {} objects so far", op.id,
                    op.status, op.object_count);
      logged = std::chrono::steady_clock::now();
    }
    co_await sleep_watching(walk, delay);
    delay = std::min(kMaxPoll, delay * 3 / 2);
    auto again = co_await poll(walk, op.id);
    if (!again)
      throw StoreError("Shopify no longer knows bulk operation " + op.id, StoreError::Retry::no);
    op = std::move(*again);
  }
  co_return op;
}

// Starts the bulk query; when the app's slot is taken (OPERATION_IN_PROGRESS: one
// bulk query at a time before API 2026-01, five from it), takes over the running
// operation if it is this query (a start whose answer was lost), else waits for
// it to end and starts again. nullopt: a bulk operation cannot serve (logged).
asio::awaitable<std::optional<BulkOperation>> start(Walk& walk) {
  const auto waited_since = std::chrono::steady_clock::now();
  for (;;) {
    boost::json::object variables{{"query", kBulkVariantsQuery}};
    auto body = request_body(kBulkRunMutation, std::move(variables));
    Reply reply;
    std::string refused;
    try {
      reply = co_await walk.client.call(CallKind::bulk_operation, std::move(body));
    } catch (const TokenRefused&) {
      throw;  // no walk of any kind can go on
    } catch (const StoreError& e) {
      // A GraphQL error without data (ACCESS_DENIED: the app lacks a scope bulk queries
      // need, a version without bulk operations...): the paged walk may still serve.
      refused = e.what();
    }
    if (!refused.empty()) {
      pb::log::warn(walk.fields, "Shopify refused the bulk query ({}); paging instead", refused);
      co_return std::nullopt;
    }
    const auto started = read_or_throw([&] { return read_bulk_start(reply.data); });
    if (started.operation && started.errors.empty()) co_return started.operation;
    const bool busy = std::any_of(started.errors.begin(), started.errors.end(),
                                  [](const auto& e) { return e.code == "OPERATION_IN_PROGRESS"; });
    if (!busy) {
      const auto& e = started.errors.front();
      pb::log::warn(walk.fields, "Shopify refused the bulk query ({}: {}); paging instead", e.code,
                    e.message);
      co_return std::nullopt;
    }
    auto running = co_await current(walk);
    if (running && !running->finished() && squeeze(running->query) == squeeze(kBulkVariantsQuery))
      co_return running;
    if (std::chrono::steady_clock::now() - waited_since > kMaxWaitForOther) {
      pb::log::warn(walk.fields, "another bulk query of this app holds Shopify's slot; paging");
      co_return std::nullopt;
    }
    pb::log::info(walk.fields, "another bulk query of this app is running: waiting for it");
    if (running && !running->finished())
      co_await wait_for(walk, *running);
    else
      co_await sleep_watching(walk, kMaxPoll);
  }
}

struct Chunk {
  std::string body;
  bool last = false;
};

// Bytes [offset, offset + kChunkBytes) of the result, retried a few times.
asio::awaitable<Chunk> fetch_chunk(Walk& walk, net::HttpSession& session, const std::string& target,
                                   std::uint64_t offset) {
  std::string why;
  for (int attempt = 1; attempt <= kDownloadAttempts; ++attempt) {
    stop_if_asked(walk);
    net::Request request{"GET", target, {}, {}};
    request.headers.push_back(
        {"Range", fmt::format("bytes={}-{}", offset, offset + kChunkBytes - 1)});
    try {
      auto response = co_await session.send(std::move(request));
      if (response.status == 416) co_return Chunk{{}, true};  // offset at the end
      if (response.status == 206) {
        const auto* range = response.header("Content-Range");
        const auto slash = range ? range->rfind('/') : std::string::npos;
        std::uint64_t size = 0;
        if (slash != std::string::npos)
          std::from_chars(range->data() + slash + 1, range->data() + range->size(), size);
        // Without the size ("bytes a-b/*"), a short chunk is the last one.
        // Decided before the body moves into the chunk (a braced list moves it first).
        const bool last =
            response.body.empty() || (size != 0 ? offset + response.body.size() >= size
                                                : response.body.size() < kChunkBytes);
        co_return Chunk{std::move(response.body), last};
      }
      if (response.status == 200) {  // the whole file: Range ignored
        auto all = std::move(response.body);
        co_return Chunk{offset < all.size() ? all.substr(offset) : std::string(), true};
      }
      why = fmt::format("HTTP {}", response.status);
      if (response.status < 500 && response.status != 429) break;
    } catch (const net::TransportError& e) {
      why = e.what();
      if (!e.retryable()) break;
    }
    co_await sleep_watching(walk, milliseconds(500 << attempt));
  }
  throw StoreError(fmt::format("downloading the Shopify bulk result from {} failed at byte {}: {} "
                               "(the next run resumes there)",
                               session.origin(), offset, why),
                   StoreError::Retry::no);
}

// Streams the JSONL result of `op` from byte `offset` (where a previous run stopped).
asio::awaitable<void> download(Walk& walk, const BulkOperation& op, std::uint64_t offset) {
  net::Url url;
  try {
    url = net::Url::parse(op.url);
  } catch (const std::exception& e) {
    throw StoreError(std::string("Shopify bulk result URL: ") + e.what(), StoreError::Retry::no);
  }
  if (!url.tls() && !url.loopback())
    throw StoreError("Shopify bulk result URL is not https", StoreError::Retry::no);
  const auto session = walk.result_sessions(url);
  std::string target = url.path.empty() ? "/" : url.path;
  if (!url.query.empty()) target += "?" + url.query;
  VariantLines lines(offset);
  std::uint64_t fetched = offset;
  for (bool last = false; !last;) {
    auto chunk = co_await fetch_chunk(walk, *session, target, fetched);
    last = chunk.last;
    fetched += chunk.body.size();
    std::vector<VariantItem> items;
    read_or_throw([&] {
      lines.feed(chunk.body, items);
      if (last) lines.finish(items);
      return 0;
    });
    chunk.body = {};
    // What was read to the last whole line, with the offset after it: a stop or a kill
    // resumes there and reads the torn line again.
    std::string checkpoint = checkpoint_of(op.id, lines.consumed());
    co_await commit_step(walk, std::move(items), std::move(checkpoint));
    if (walk.context.progress) walk.context.progress->mapping(lines.lines(), op.object_count);
  }
}

}  // namespace

asio::awaitable<bool> walk_bulk(Walk& walk, const std::string& checkpoint) {
  const auto began = std::chrono::steady_clock::now();
  auto [id, offset] = parse_checkpoint(checkpoint);
  std::optional<BulkOperation> op;
  if (!id.empty()) {
    op = co_await poll(walk, id);
    if (op && (op->status == "CANCELED" || op->status == "EXPIRED")) op.reset();
    if (op) pb::log::info(walk.fields, "resuming Shopify bulk operation {} at byte {}", id, offset);
  }
  if (!op) {
    auto begin = [&walk] { walk.map.begin_walk("bulk"); };
    co_await async::offload(walk.context.pool, begin);
    offset = 0;
    op = co_await start(walk);
    if (!op) co_return false;
    pb::log::info(walk.fields, "Shopify bulk operation {} started to read the catalogue", op->id);
    std::vector<VariantItem> none;
    std::string started_at = checkpoint_of(op->id, 0);
    co_await commit_step(walk, std::move(none), std::move(started_at));
  }
  auto done = co_await wait_for(walk, *op);
  if (done.status != "COMPLETED") {
    pb::log::warn(walk.fields, "Shopify bulk operation {} ended {}{}; paging through the catalogue",
                  done.id, done.status,
                  done.error_code.empty() ? "" : " (" + done.error_code + ")");
    co_return false;
  }
  if (!done.url.empty()) co_await download(walk, done, offset);
  auto finish = [&walk] { walk.map.finish_walk(); };
  co_await async::offload(walk.context.pool, finish);
  pb::log::info(walk.fields, "Shopify catalogue read by bulk operation {}: {} objects, {:.1f} s",
                done.id, done.object_count,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
  co_return true;
}

}  // namespace pb::connectors::shopify
