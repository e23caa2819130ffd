// The interface every store connector implements: set absolute quantities for
// a batch of SKUs and say, per SKU, whether the store took them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "connectors/store/store_id_cache.hpp"
#include "core/types.hpp"
#include "net/exchange_observer.hpp"

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

// What a store tells the run while it maps SKUs to its own ids (a catalogue
// walk, before the first push can go): the run shows it as its `mapping` phase,
// so that `beectl status` says what the time goes on. Set by the runner; called
// on the event loop only.
class MappingProgress {
 public:
  virtual ~MappingProgress() = default;
  // `mapped` catalogue entries read so far; `total` how many there are when the
  // platform says (0: unknown).
  virtual void mapping(std::uint64_t mapped, std::uint64_t total) = 0;
  // The walk is over (finished or failed).
  virtual void mapping_done() = 0;
};

struct PushContext {
  boost::asio::any_io_executor pool;    // for blocking work (file I/O)
  std::string run_reference;            // "CONNECTION/RUN-ID", for stores that record a reason
  MappingProgress* progress = nullptr;  // the run's, during prepare(); null: nobody listens
  // Set when the run is to stop (beectl pause, SIGTERM): a long walk checks it
  // between pages and while it polls, and throws StoreError. Null: never set.
  std::shared_ptr<const std::atomic<bool>> stop = nullptr;

  bool stop_requested() const { return stop && stop->load(); }
};

// The whole batch failed. Every item of the batch counts as transient: it
// stays pending. `retry_in_run` says whether the engine should try the batch
// again in this run (an I/O error on a file) or end the run at once: a
// connector that already retried over the network with backoff, or a failure
// no retry mends (wrong token, certificate that does not verify), says no, so
// that retries never multiply into a storm.
class StoreError : public std::runtime_error {
 public:
  enum class Retry { yes, no };
  explicit StoreError(const std::string& message, Retry retry = Retry::yes)
      : std::runtime_error(message), retry_(retry) {}
  bool retry_in_run() const { return retry_ == Retry::yes; }

 private:
  Retry retry_;
};

// What a connector may use besides its configuration.
struct StoreDeps {
  boost::asio::any_io_executor io;  // the event loop: network I/O runs here
  StoreIdCacheFactory id_caches;    // SKU -> store id caches; none: in memory (tests, tools)
  std::string connection;           // the connection's name (LMDB key prefix, log fields)
  std::shared_ptr<net::ExchangeObserver> exchanges = nullptr;  // sees each HTTP exchange
};

class Store {
 public:
  virtual ~Store() = default;

  // The most items one push() call accepts (the platform's cap, times the
  // calls a connector makes concurrently).
  virtual std::size_t max_batch() const = 0;

  // Called once per run before its first push (and only when there is
  // something to push): load credentials, fill or check caches. Throws
  // StoreError; the run then fails with every SKU still pending.
  virtual boost::asio::awaitable<void> prepare(PushContext context) {
    (void)context;
    co_return;
  }

  // Sets the store quantity of every item in `batch` (sorted by sku, unique).
  // Returns one result per item, in the same order. Throws StoreError.
  virtual boost::asio::awaitable<std::vector<PushResult>> push(std::vector<PushItem> batch,
                                                               PushContext context) = 0;

  virtual std::string describe() const = 0;
};

}  // namespace pb::connectors
