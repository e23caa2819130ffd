#include "config/rules_loader.hpp"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>

#include "core/sku.hpp"
#include "core/utf8.hpp"

namespace pb::config {
namespace {

constexpr std::int64_t kMaxUnitsPerBundle = 1'000'000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// A store SKU the state keeps as a key (a listing's target, a bundle) must fit one.
void check_stored_sku(const YAML::Node& at, std::string_view leaf, std::string_view sku,
                      std::string_view where, Reader& reader) {
  if (const auto problem = sku_problem(sku))
    reader.fail(at, leaf,
                std::string(where) + "SKU \"" + utf8::escape_invalid(sku.substr(0, 60)) +
                    (sku.size() > 60 ? "..." : "") + "\" " + *problem + " (at most " +
                    std::to_string(kMaxSkuBytes) + " bytes of UTF-8)");
}

// `warehouse_sku,store_sku` lines under that header. Kept simple on purpose: SKUs with commas
// or quotes are refused with the line, rather than half-understood.
void read_listings_file(ListingsConfig& listings, const YAML::Node& at, Reader& reader) {
  std::ifstream in(listings.file);
  if (!in) reader.fail(at, {}, "cannot read listings file " + listings.file.string());
  std::string line;
  std::uint64_t number = 0;
  bool header = true;
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = trim(line);
    if (number == 1 && text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    if (text.empty() || text.starts_with('#')) continue;
    const auto where = listings.file.string() + " line " + std::to_string(number) + ": ";
    if (text.find('"') != std::string_view::npos)
      reader.fail(at, {}, where + "quoted fields are not supported in a listings file");
    const auto comma = text.find(',');
    if (comma == std::string_view::npos || text.find(',', comma + 1) != std::string_view::npos)
      reader.fail(at, {}, where + "expected warehouse_sku,store_sku");
    const auto from = trim(text.substr(0, comma));
    const auto to = trim(text.substr(comma + 1));
    if (header) {
      header = false;
      if (from != "warehouse_sku" || to != "store_sku")
        reader.fail(at, {}, where + "expected the header warehouse_sku,store_sku");
      continue;
    }
    if (from.empty() || to.empty()) reader.fail(at, {}, where + "a SKU is empty");
    check_stored_sku(at, {}, to, where + "store ", reader);
    listings.map.emplace_back(from, to);
  }
  if (in.bad()) reader.fail(at, {}, "cannot read listings file " + listings.file.string());
}

}  // namespace

void load_listings(ListingsConfig& listings, const YAML::Node& node, Reader& reader) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) reader.fail(node, {}, "expected a map, got " + Reader::describe(node));
  std::vector<std::pair<std::string, std::string>> inline_map;
  reader.entries(node, "key", [&](const Reader::Entry& entry) {
    if (entry.name == "map") {
      reader.entries(entry.value, "warehouse SKU", [&](const Reader::Entry& sku) {
        auto to = std::get<std::string>(reader.scalar(sku.value, Kind::string));
        check_stored_sku(sku.value, {}, to, "store ", reader);
        inline_map.emplace_back(sku.name, std::move(to));
      });
    } else if (entry.name == "file") {
      listings.file = std::get<std::filesystem::path>(reader.scalar(entry.value, Kind::path));
      read_listings_file(listings, entry.value, reader);
    } else if (entry.name == "include") {
      listings.include = reader.strings(entry.value, "glob");
    } else if (entry.name == "exclude") {
      listings.exclude = reader.strings(entry.value, "glob");
    } else {
      reader.fail(entry.key, {},
                  "unknown key \"" + entry.name + "\" (known keys: map, file, include, exclude)");
    }
  });
  // The inline map wins over the file, so one line in the YAML can correct a bad export.
  std::stable_sort(listings.map.begin(), listings.map.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < listings.map.size(); ++i)
    if (listings.map[i].first == listings.map[i - 1].first)
      reader.fail(node, "file",
                  listings.file.string() + ": warehouse SKU \"" + listings.map[i].first +
                      "\" is listed twice");
  for (auto& [from, to] : inline_map) {
    auto it = std::lower_bound(listings.map.begin(), listings.map.end(), from,
                               [](const auto& e, const std::string& k) { return e.first < k; });
    if (it != listings.map.end() && it->first == from)
      it->second = std::move(to);
    else
      listings.map.emplace(it, std::move(from), std::move(to));
  }
}

void load_bundles(std::vector<BundleConfig>& bundles, const YAML::Node& node, Reader& reader) {
  reader.entries(node, "bundle SKU", [&](const Reader::Entry& entry) {
    BundleConfig bundle;
    check_stored_sku(entry.key, {}, entry.name, "bundle ", reader);
    bundle.sku = entry.name;
    reader.entries(entry.value, "component SKU", [&](const Reader::Entry& component) {
      const auto units = std::get<std::int64_t>(
          reader.scalar(component.value, Kind::integer, 1, kMaxUnitsPerBundle));
      bundle.components.emplace_back(component.name, units);
    });
    if (bundle.components.empty())
      reader.fail(entry.key, {}, "a bundle needs at least one component: SKU: units per bundle");
    std::sort(bundle.components.begin(), bundle.components.end());
    bundles.push_back(std::move(bundle));
  });
  std::sort(bundles.begin(), bundles.end(),
            [](const BundleConfig& a, const BundleConfig& b) { return a.sku < b.sku; });
}

void load_hook(HookConfig& hook, const YAML::Node& node, Reader& reader) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) reader.fail(node, {}, "expected a map, got " + Reader::describe(node));
  bool has_command = false;
  reader.entries(node, "key", [&](const Reader::Entry& entry) {
    if (entry.name == "command") {
      // A list is run as is; a single string is split on spaces (no shell, so no quoting).
      if (entry.value.IsScalar()) {
        const Value value = reader.scalar(entry.value, Kind::string);
        std::string_view rest = std::get<std::string>(value);
        while (!(rest = trim(rest)).empty()) {
          const auto end = std::min(rest.find_first_of(" \t"), rest.size());
          hook.command.emplace_back(rest.substr(0, end));
          rest.remove_prefix(end);
        }
      } else {
        hook.command = reader.strings(entry.value, "argument");
      }
      if (hook.command.empty() || !hook.command.front().starts_with('/'))
        reader.fail(entry.value, {},
                    "the command must start with an absolute path (beed runs it without a shell)");
      has_command = true;
    } else if (entry.name == "timeout") {
      hook.timeout =
          std::get<std::chrono::seconds>(reader.scalar(entry.value, Kind::duration, 1, 3600));
    } else if (entry.name == "partial") {
      const Value value = reader.scalar(entry.value, Kind::string);
      const std::string& text = std::get<std::string>(value);
      if (text != "true" && text != "false")
        reader.fail(entry.value, {}, "expected true or false, got \"" + text + "\"");
      hook.on_partial = text == "true";
    } else {
      reader.fail(entry.key, {},
                  "unknown key \"" + entry.name + "\" (known keys: command, timeout, partial)");
    }
  });
  if (!has_command) reader.fail(node, {}, "missing required key \"command\"");
}

void load_buffer(InventoryConfig& inventory, const YAML::Node& node, Reader& reader) {
  inventory.buffer = 0;
  inventory.buffer_percent = 0;
  if (!node.IsDefined() || node.IsNull()) return;
  if (node.IsScalar() && node.Scalar().ends_with('%')) {
    std::string digits = node.Scalar();
    digits.pop_back();
    int percent = -1;
    if (!digits.empty() && digits.size() <= 3 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      percent = std::stoi(digits);
    if (percent < 0 || percent > 100)
      reader.fail(node, {},
                  "expected a percentage from 0% to 100% or a number of units, got \"" +
                      node.Scalar() + "\"");
    inventory.buffer_percent = percent;
    return;
  }
  inventory.buffer = std::get<std::int64_t>(
      reader.scalar(node, Kind::integer, 0, std::numeric_limits<std::int64_t>::max()));
}

}  // namespace pb::config
