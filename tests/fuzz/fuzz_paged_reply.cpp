// libFuzzer target for the paged `inventory` reader (service/inventory_pages.hpp) and the
// --sku glob matcher behind it. Input: six option bytes (page items, page bytes, keys per step,
// limit, flags), a glob and an `after` SKU (each a length byte and its bytes), then the
// catalogue: per item a length byte, the SKU, a quantity byte and an error-length byte.
// Checks: every page within its count and byte bounds, SKUs strictly increasing and after
// `after`, and the pages together equal to a one-shot listing of the same query.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/serialize.hpp>

#include "service/inventory_pages.hpp"
#include "service/sku_glob.hpp"
#include "state/inventory_db.hpp"

namespace {

struct Input {
  std::string_view rest;
  std::uint8_t byte() {
    if (rest.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(rest.front());
    rest.remove_prefix(1);
    return b;
  }
  std::string text(std::size_t max) {
    const std::size_t n = std::min<std::size_t>({byte() % (max + 1), rest.size()});
    std::string s(rest.substr(0, n));
    rest.remove_prefix(n);
    return s;
  }
};

void check(bool ok) {
  if (!ok) std::abort();
}

const std::filesystem::path& state_dir() {
  static const std::filesystem::path dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pb-fuzz-pages-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    return std::filesystem::path(tmpl);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pb;
  Input in{std::string_view(reinterpret_cast<const char*>(data), size)};
  service::PageBounds bounds;
  bounds.max_items = 1 + in.byte() % 16u;
  bounds.max_bytes = 200 + in.byte() * 20u;
  bounds.max_scanned = 1 + in.byte() % 32u;
  const std::uint64_t limit = in.byte() % 24u;
  const std::uint8_t flags = in.byte();
  in.byte();  // reserved
  const std::string glob = in.text(24);
  const std::string after = in.text(8);

  service::InventoryQuery query;
  query.connection = "c";
  if ((flags & 1u) != 0 && service::SkuGlob::problem(glob).empty()) query.glob.emplace(glob);
  query.changed_only = (flags & 2u) != 0;
  if ((flags & 4u) != 0) query.after = after;
  query.limit = limit;

  std::map<std::string, state::ItemRecord> items;
  while (!in.rest.empty() && items.size() < 200) {
    std::string sku = in.text(12);
    state::ItemRecord r;
    r.quantity = in.byte();
    r.wanted = r.quantity;
    r.listed = true;
    if ((r.quantity & 1u) == 0) r.store_quantity = r.quantity;
    r.error = std::string(in.byte() % 40u, '\x01');
    if (!sku.empty() && sku.find('\0') == std::string::npos) items[std::move(sku)] = r;
  }

  std::filesystem::remove_all(state_dir());
  std::filesystem::create_directories(state_dir());
  state::InventoryDb db(state_dir(), std::size_t{1} << 22);
  db.write("c", [&](state::ConnectionTxn& t) {
    for (const auto& [sku, r] : items) t.put_item(sku, r);
  });

  // The one-shot listing the pages must add up to.
  std::vector<std::string> expected;
  bool more = false;
  for (const auto& [sku, r] : items) {
    if (query.after && sku <= *query.after) continue;
    if (query.glob && !query.glob->matches(sku)) continue;
    if (query.changed_only && !r.needs_push()) continue;
    if (limit != 0 && expected.size() == limit) {
      more = true;
      break;
    }
    expected.push_back(sku);
  }

  service::InventoryPager pager(db, query, bounds);
  std::vector<std::string> listed;
  service::InventoryPage page;
  for (std::size_t steps = 0; !page.last; ++steps) {
    check(steps < 10'000);
    pager.step();
    if (!pager.ready()) continue;
    page = pager.take();
    check(page.items.size() <= bounds.max_items);
    check(page.bytes <= bounds.max_bytes || page.items.size() == 1);
    // page.bytes bounds each item; the array adds brackets and commas.
    check(boost::json::serialize(page.items).size() <= page.bytes + page.items.size() + 2);
    for (const auto& item : page.items) {
      std::string sku(item.at("sku").as_string());
      check(listed.empty() ? !query.after || sku > *query.after : sku > listed.back());
      listed.push_back(std::move(sku));
    }
    if (!page.last) check(!page.items.empty() && page.next_after == listed.back());
  }
  check(listed == expected);
  check(page.truncated == more);
  check(page.next_after == (more ? std::optional<std::string>(listed.back()) : std::nullopt));
  return 0;
}
