#include "connectors/store/shopify/shopify_bulk.hpp"

#include <charconv>
#include <stdexcept>

#include <boost/json/parse.hpp>

namespace pb::connectors::shopify {

namespace json = boost::json;

const std::string_view kBulkVariantsQuery =
    "{ productVariants { edges { node { id sku inventoryItem { id } } } } }";

const std::string_view kBulkRunMutation =
    R"(mutation PackageBeeBulkVariants($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { code field message }
  }
})";

const std::string_view kBulkPollQuery = R"(query PackageBeeBulkPoll($id: ID!) {
  bulkOperation(id: $id) { id status errorCode objectCount url }
})";

const std::string_view kCurrentBulkQuery = R"(query PackageBeeCurrentBulk {
  currentBulkOperation { id status errorCode objectCount url query }
})";

namespace {

[[noreturn]] void bad_shape(const std::string& what) {
  throw std::runtime_error("unexpected Shopify bulk operation answer: " + what);
}

const json::value* member(const json::value& v, std::string_view key) {
  const auto* object = v.if_object();
  if (object == nullptr) return nullptr;
  const auto it = object->find(key);
  return it == object->end() ? nullptr : &it->value();
}

std::string text(const json::value* v) {
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->as_string());
}

// UnsignedInt64 travels as a string (shopify.dev "UnsignedInt64" scalar); accept a number too.
std::uint64_t count(const json::value* v) {
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64()) return v->as_int64() > 0 ? static_cast<std::uint64_t>(v->as_int64()) : 0;
  if (v->is_string()) {
    std::uint64_t n = 0;
    const auto s = v->as_string();
    std::from_chars(s.data(), s.data() + s.size(), n);
    return n;
  }
  return 0;
}

}  // namespace

std::optional<BulkOperation> read_bulk_operation(const json::value& node) {
  if (node.is_null()) return std::nullopt;
  if (!node.is_object()) bad_shape("a bulk operation that is not an object");
  BulkOperation op;
  op.id = text(member(node, "id"));
  op.status = text(member(node, "status"));
  if (op.id.empty() || op.status.empty()) bad_shape("a bulk operation without id or status");
  op.error_code = text(member(node, "errorCode"));
  op.object_count = count(member(node, "objectCount"));
  op.url = text(member(node, "url"));
  op.query = text(member(node, "query"));
  return op;
}

BulkStart read_bulk_start(const json::value& data) {
  const auto* payload = member(data, "bulkOperationRunQuery");
  if (payload == nullptr || !payload->is_object()) bad_shape("no bulkOperationRunQuery");
  BulkStart start;
  if (const auto* op = member(*payload, "bulkOperation"))
    start.operation = read_bulk_operation(*op);
  if (const auto* errors = member(*payload, "userErrors"); errors && errors->is_array()) {
    for (const auto& e : errors->as_array()) {
      UserError error;
      error.code = text(member(e, "code"));
      error.message = text(member(e, "message"));
      start.errors.push_back(std::move(error));
    }
  }
  if (!start.operation && start.errors.empty()) bad_shape("neither an operation nor errors");
  return start;
}

std::optional<VariantItem> read_variant_line(std::string_view line) {
  std::error_code ec;
  const auto value = json::parse(line, ec);
  if (ec || !value.is_object())
    throw std::runtime_error("Shopify bulk result: a line that is not a JSON object");
  auto sku = text(member(value, "sku"));
  const auto* item = member(value, "inventoryItem");
  auto id = item ? text(member(*item, "id")) : std::string();
  if (sku.empty() || id.empty()) return std::nullopt;  // a product line, or a variant without SKU
  return VariantItem{std::move(sku), std::move(id)};
}

void VariantLines::read_line(std::string_view line, std::vector<VariantItem>& out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return;
  ++lines_;
  if (auto v = read_variant_line(line)) out.push_back(std::move(*v));
}

void VariantLines::feed(std::string_view chunk, std::vector<VariantItem>& out) {
  while (!chunk.empty()) {
    const auto nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(chunk);
      return;
    }
    const auto piece = chunk.substr(0, nl);
    if (partial_.empty()) {
      read_line(piece, out);
    } else {
      partial_.append(piece);
      read_line(partial_, out);
    }
    consumed_ += partial_.size() + (partial_.empty() ? piece.size() : 0) + 1;
    partial_.clear();
    chunk.remove_prefix(nl + 1);
  }
}

void VariantLines::finish(std::vector<VariantItem>& out) {
  if (partial_.empty()) return;
  try {
    read_line(partial_, out);
  } catch (const std::runtime_error&) {
    throw std::runtime_error("Shopify bulk result: the file ends in a torn line");
  }
  consumed_ += partial_.size();
  partial_.clear();
}

}  // namespace pb::connectors::shopify
