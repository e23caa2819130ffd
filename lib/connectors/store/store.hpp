// The interface every store connector implements: set absolute quantities for
// a batch of SKUs and say, per SKU, whether the store took them.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "core/types.hpp"

namespace pb::connectors {

struct PushItem {
  std::string sku;
  Quantity quantity = 0;
};

enum class PushOutcome {
  confirmed,  // the store now holds this quantity
  rejected,   // the store refused this SKU (unknown SKU, invalid value): not retried in this run
  transient,  // may succeed later (timeout, 5xx, throttled): retried with backoff
};

struct PushResult {
  PushOutcome outcome = PushOutcome::confirmed;
  std::string message;  // the store's words, for rejected and transient
};

struct PushContext {
  boost::asio::any_io_executor pool;  // for blocking work (file I/O)
  std::string run_reference;          // "CONNECTION/RUN-ID", for stores that record a reason
};

// The whole batch failed in a way that may pass on retry (I/O error,
// connection refused). Every item of the batch counts as transient.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  virtual ~Store() = default;

  // The most items one push() call accepts (the platform's cap).
  virtual std::size_t max_batch() const = 0;

  // Sets the store quantity of every item in `batch` (sorted by sku, unique).
  // Returns one result per item, in the same order. Throws StoreError.
  virtual boost::asio::awaitable<std::vector<PushResult>> push(std::vector<PushItem> batch,
                                                               PushContext context) = 0;

  virtual std::string describe() const = 0;
};

std::unique_ptr<Store> make_store(const config::StoreConfig& config);

}  // namespace pb::connectors
