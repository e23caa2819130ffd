// Shopify bulk operations for the catalogue walk: the GraphQL documents that
// start and poll a bulk query, what the connector reads of a BulkOperation, and
// the reader of the JSONL file the operation produces. No I/O here.
//
// shopify.dev "Perform bulk operations with the GraphQL Admin API": a bulk query
// runs server-side (status CREATED -> RUNNING -> COMPLETED, or FAILED, CANCELED,
// EXPIRED), counts objectCount as it goes, and on COMPLETED offers `url`, a JSONL
// file on another host (null when the query matched nothing). One object per
// line; the objects of a nested connection come on their own lines with
// `__parentId`, after their parent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "connectors/store/shopify/shopify_graphql.hpp"

namespace pb::connectors::shopify {

// The query the bulk operation runs: every variant's SKU and inventory item.
extern const std::string_view kBulkVariantsQuery;
// bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors }.
extern const std::string_view kBulkRunMutation;
// bulkOperation(id: $id) { id status errorCode objectCount url query }.
extern const std::string_view kBulkPollQuery;
// currentBulkOperation { ... the same }: the app's latest bulk query, to find
// the one that holds the slot when a start is refused (OPERATION_IN_PROGRESS).
extern const std::string_view kCurrentBulkQuery;

struct BulkOperation {
  std::string id;
  std::string status;      // CREATED, RUNNING, COMPLETED, CANCELING, CANCELED, FAILED, EXPIRED
  std::string error_code;  // ACCESS_DENIED, INTERNAL_SERVER_ERROR, TIMEOUT; "" if none
  std::uint64_t object_count = 0;
  std::string url;    // "" until COMPLETED, and when the result is empty
  std::string query;  // the document it runs ("" when not asked for)

  bool finished() const {
    return status == "COMPLETED" || status == "FAILED" || status == "CANCELED" ||
           status == "EXPIRED";
  }
};

// Reads a BulkOperation object (null gives nullopt). Throws std::runtime_error on a wrong shape.
std::optional<BulkOperation> read_bulk_operation(const boost::json::value& node);

struct BulkStart {
  std::optional<BulkOperation> operation;
  std::vector<UserError> errors;  // OPERATION_IN_PROGRESS, INVALID, ...
};
// Reads data.bulkOperationRunQuery.
BulkStart read_bulk_start(const boost::json::value& data);

// Reads a JSONL result in chunks of any size, a line at a time, holding only
// the line in progress. A variant line gives its SKU and inventory item; other
// objects (a product, when the query nests variants under products) and
// variants without a SKU are skipped.
class VariantLines {
 public:
  // `start`: the offset the bytes fed begin at (a resumed download).
  explicit VariantLines(std::uint64_t start = 0) : consumed_(start) {}
  // Reads every complete line of `chunk` (with the partial line left from
  // before) into `out`; keeps the new partial line. Throws std::runtime_error
  // for a line that is not a JSON object.
  void feed(std::string_view chunk, std::vector<VariantItem>& out);
  // The file ended: a last line without its newline is read if it is whole
  // JSON; a torn one throws std::runtime_error.
  void finish(std::vector<VariantItem>& out);
  // Bytes of complete lines read so far: where a resumed download starts.
  std::uint64_t consumed() const { return consumed_; }
  std::uint64_t lines() const { return lines_; }

 private:
  void read_line(std::string_view line, std::vector<VariantItem>& out);

  std::string partial_;
  std::uint64_t consumed_ = 0;
  std::uint64_t lines_ = 0;
};

// One JSONL line; nullopt for an object that is not a variant with a SKU.
// Throws std::runtime_error for a line that is not a JSON object.
std::optional<VariantItem> read_variant_line(std::string_view line);

}  // namespace pb::connectors::shopify
