#include "connectors/warehouse/http/json_pager.hpp"

#include <stdexcept>
#include <utility>

#include "connectors/warehouse/feed.hpp"
#include "connectors/warehouse/http/link_header.hpp"
#include "net/url_reference.hpp"

namespace pb::connectors {
namespace {

void add_param(std::string& query, const std::string& name, const std::string& value) {
  if (!query.empty()) query += '&';
  query += net::url_encode(name);
  query += '=';
  query += net::url_encode(value);
}

}  // namespace

JsonPager::JsonPager(const config::HttpJsonWarehouseConfig& config, net::Url url,
                     std::string origin, std::string updated_since)
    : paging_(config.paging),
      page_param_(config.page_param),
      size_param_(config.size_param.empty()
                      ? (config.paging == config::JsonPaging::offset ? "limit" : "per_page")
                      : config.size_param),
      offset_param_(config.offset_param),
      cursor_param_(config.cursor_param),
      updated_since_param_(config.updated_since_param),
      page_size_(config.page_size),
      first_page_(config.first_page),
      max_pages_(static_cast<std::uint64_t>(config.max_pages)),
      url_(std::move(url)),
      origin_(std::move(origin)),
      updated_since_(std::move(updated_since)) {
  target_ = build_target();
  if (paging_ == config::JsonPaging::link) seen_.insert(target_);
}

std::string JsonPager::build_target() const {
  std::string query = url_.query;
  switch (paging_) {
    case config::JsonPaging::page:
      add_param(query, page_param_,
                std::to_string(first_page_ + static_cast<std::int64_t>(page_ - 1)));
      add_param(query, size_param_, std::to_string(page_size_));
      break;
    case config::JsonPaging::offset:
      add_param(query, offset_param_, std::to_string(offset_));
      add_param(query, size_param_, std::to_string(page_size_));
      break;
    case config::JsonPaging::cursor:
      if (!cursor_.empty()) add_param(query, cursor_param_, cursor_);
      add_param(query, size_param_, std::to_string(page_size_));
      break;
    case config::JsonPaging::link:  // later pages follow the links as given
      add_param(query, size_param_, std::to_string(page_size_));
      break;
  }
  if (!updated_since_.empty()) add_param(query, updated_since_param_, updated_since_);
  std::string target = url_.path.empty() ? "/" : url_.path;
  target += '?';
  target += query;
  return target;
}

bool JsonPager::advance(const JsonPage& page, const std::vector<net::Header>& headers) {
  if (page.items == 0) return false;
  const bool short_page = page.items < static_cast<std::size_t>(page_size_);
  switch (paging_) {
    case config::JsonPaging::page:
      if (short_page) return false;
      break;
    case config::JsonPaging::offset:
      if (short_page) return false;
      offset_ += page.items;
      break;
    case config::JsonPaging::cursor:
      if (!page.next_cursor) return false;
      if (!seen_.insert(*page.next_cursor).second)
        throw WarehouseError(origin_ + ": page " + std::to_string(page_) +
                             ": the server sent a next cursor it had sent before (paging in a "
                             "loop?)");
      cursor_ = *page.next_cursor;
      break;
    case config::JsonPaging::link:
      if (!next_link(headers)) return false;
      break;
  }
  if (page_ >= max_pages_)
    throw WarehouseError(origin_ + ": more than " + std::to_string(max_pages_) +
                         " pages (max_pages); does the server page in a loop?");
  ++page_;
  if (paging_ != config::JsonPaging::link) target_ = build_target();
  return true;
}

bool JsonPager::next_link(const std::vector<net::Header>& headers) {
  const auto link = find_link(headers, "next");
  if (!link) return false;
  const std::string where = origin_ + ": page " + std::to_string(page_) + ": ";
  net::ResolvedReference next;
  try {
    next = net::resolve_reference(url_, target_, *link);
  } catch (const std::invalid_argument& e) {
    throw WarehouseError(where + "cannot follow the Link rel=\"next\": " + e.what());
  }
  if (!net::same_origin(next.origin, url_))
    throw WarehouseError(where + "refused to follow the Link rel=\"next\" to " +
                         next.origin.origin() + ": not the configured " + url_.origin() +
                         ", and the credentials must not go there");
  if (next.target == target_ || !seen_.insert(next.target).second)
    throw WarehouseError(where +
                         "the Link rel=\"next\" points to a page already read (paging "
                         "in a loop?)");
  target_ = std::move(next.target);
  return true;
}

}  // namespace pb::connectors
